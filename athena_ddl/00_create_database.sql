-- The flight KPIs catalog: raw, silver, quarantine and gold flight tables, and the run manifests.
CREATE DATABASE IF NOT EXISTS flight_kpis
COMMENT 'FlightRadar24 world snapshots every two hours: raw, clean (silver), quarantine, KPI (gold) tables and runs'
