-- Q1 the airline with the most live flights, for one slot. Parameters: tech_day ('YYYY-MM-DD'), tech_hour ('HH').
SELECT tech_day, tech_hour, rank, airline_icao, airline_name, live_flights
FROM airline_most_live_flights
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY airline_icao
