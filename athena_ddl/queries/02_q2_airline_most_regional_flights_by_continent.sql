-- Q2 per continent, the airline with the most live regional flights, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, continent, rank, airline_icao, airline_name, regional_flights
FROM airline_most_regional_flights_by_continent
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY continent, airline_icao
