-- Q3 the live flight with the longest route, for one slot. Parameters: tech_day ('YYYY-MM-DD'), tech_hour ('HH').
SELECT tech_day, tech_hour, rank, flight_id, callsign, airline_icao, origin_iata, destination_iata, distance_km
FROM longest_live_flight
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY flight_id
