-- Raw flights as received from the feed: one CSV per run (<slot partition>/<run_id>.csv), header row, RFC 4180 quoting, every field as text.
CREATE EXTERNAL TABLE IF NOT EXISTS raw_flights (
  latitude                 string,
  longitude                string,
  id                       string,
  icao_24bit               string,
  heading                  string,
  altitude                 string,
  ground_speed             string,
  squawk                   string,
  aircraft_code            string,
  registration             string,
  `time`                   string,
  origin_airport_iata      string,
  destination_airport_iata string,
  number                   string,
  airline_iata             string,
  on_ground                string,
  vertical_speed           string,
  callsign                 string,
  airline_icao             string,
  tile                     string,
  requested_at             string,
  origin_airport_icao      string,
  destination_airport_icao string
)
PARTITIONED BY (
  tech_year string,
  tech_month string,
  tech_day string,
  tech_hour string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES (
  'separatorChar' = ',',
  'quoteChar' = '"'
)
STORED AS TEXTFILE
LOCATION 's3://{{data_bucket}}/raw/flights/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.tech_year.type' = 'date',
  'projection.tech_year.format' = 'yyyy',
  'projection.tech_year.range' = '2024,NOW',
  'projection.tech_year.interval' = '1',
  'projection.tech_year.interval.unit' = 'YEARS',
  'projection.tech_month.type' = 'date',
  'projection.tech_month.format' = 'yyyy-MM',
  'projection.tech_month.range' = '2024-01,NOW',
  'projection.tech_month.interval' = '1',
  'projection.tech_month.interval.unit' = 'MONTHS',
  'projection.tech_day.type' = 'date',
  'projection.tech_day.format' = 'yyyy-MM-dd',
  'projection.tech_day.range' = '2024-01-01,NOW',
  'projection.tech_day.interval' = '1',
  'projection.tech_day.interval.unit' = 'DAYS',
  'projection.tech_hour.type' = 'integer',
  'projection.tech_hour.range' = '0,23',
  'projection.tech_hour.digits' = '2',
  'storage.location.template' = 's3://{{data_bucket}}/raw/flights/tech_year=${tech_year}/tech_month=${tech_month}/tech_day=${tech_day}/tech_hour=${tech_hour}/',
  'skip.header.line.count' = '1',
  'classification' = 'csv'
)
