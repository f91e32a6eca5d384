-- Run manifests: runs/<run_id>.json, one JSON object on one line per run; open-ended objects are kept as JSON text.
-- status: succeeded, degraded (quality gate failed, published as asked) or failed; quality: the gate's checks.
CREATE EXTERNAL TABLE IF NOT EXISTS runs (
  run_id           string,
  run_slot         string,
  status           string,
  source           string,
  started_at       string,
  finished_at      string,
  capture_time     string,
  error            string,
  counts           struct<raw: bigint, silver: bigint, quarantine: bigint, live_flights: bigint, gold: map<string, bigint>>,
  cleaning_rules   map<string, bigint>,
  extraction       string,
  mapping_coverage map<string, double>,
  quality          struct<passed: boolean, allow_degraded: boolean, failed: array<string>, checks: array<struct<name: string, value: double, threshold: double, passed: boolean, detail: string>>>,
  timings_s        map<string, double>,
  versions         map<string, string>
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'ignore.malformed.json' = 'false'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://{{data_bucket}}/runs/'
TBLPROPERTIES (
  'classification' = 'json'
)
