-- Gold KPI: Q6 per airline country, the top 3 aircraft models in use; the whole ranking, rank 1 is the answer.
CREATE EXTERNAL TABLE IF NOT EXISTS top_models_by_airline_country (
  airline_country string,
  rank            int,
  aircraft_model  string,
  live_flights    bigint
)
PARTITIONED BY (
  tech_year string,
  tech_month string,
  tech_day string,
  tech_hour string
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://{{data_bucket}}/gold/top_models_by_airline_country/'
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
  'storage.location.template' = 's3://{{data_bucket}}/gold/top_models_by_airline_country/tech_year=${tech_year}/tech_month=${tech_month}/tech_day=${tech_day}/tech_hour=${tech_hour}/',
  'classification' = 'parquet'
)
