-- The latest run, whatever its status (a failed run shows here first), with its counts and error.
SELECT
  run_id,
  run_slot,
  status,
  source,
  started_at,
  finished_at,
  capture_time,
  error,
  counts.raw AS raw_rows,
  counts.silver AS silver_rows,
  counts.quarantine AS quarantine_rows,
  counts.live_flights AS live_flights,
  quality.passed AS quality_passed,
  quality.failed AS failed_checks
FROM runs
ORDER BY run_slot DESC, started_at DESC, run_id DESC
LIMIT 1
