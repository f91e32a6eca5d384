-- Q5 the aircraft manufacturer with the most live flights, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, rank, manufacturer, live_flights
FROM manufacturer_most_live_flights
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY manufacturer
