-- Trend: every run's slot, status and counts over time, newest first (the input of the dashboard's trend over runs).
SELECT
  run_slot,
  run_id,
  status,
  counts.raw AS raw_rows,
  counts.silver AS silver_rows,
  counts.quarantine AS quarantine_rows,
  counts.live_flights AS live_flights,
  error
FROM runs
ORDER BY run_slot DESC, started_at DESC, run_id DESC
