-- One row per published run (succeeded, or degraded: published although its quality gate failed) of the window (the construct adds the last-7-days bound), for the trend.
SELECT
  run_slot,
  run_id,
  status,
  quality.passed AS quality_passed,
  counts.live_flights AS live_flights,
  counts.silver AS silver_rows,
  counts.quarantine AS quarantine_rows
FROM runs
WHERE status IN ('succeeded', 'degraded')
