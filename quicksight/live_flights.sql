-- Live flights (airborne aircraft) of each slot of the window (the construct adds the last-7-days bound), for the map; the dashboard keeps the latest slot.
SELECT
  flight_id,
  callsign,
  airline_icao,
  aircraft_code,
  origin_iata,
  destination_iata,
  latitude,
  longitude,
  altitude_ft,
  ground_speed_kt,
  tech_day,
  tech_hour
FROM silver_flights
WHERE is_aircraft AND NOT on_ground
