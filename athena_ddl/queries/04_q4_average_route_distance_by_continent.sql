-- Q4 per continent of origin, the average route distance of live flights, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, continent, rank, avg_distance_km, flights
FROM average_route_distance_by_continent
WHERE tech_day = ? AND tech_hour = ?
ORDER BY rank, continent
