-- One row per successful run, for the trend over runs.
SELECT
  run_slot,
  run_id,
  counts.live_flights AS live_flights,
  counts.silver AS silver_rows,
  counts.quarantine AS quarantine_rows
FROM runs
WHERE status = 'succeeded'
