-- Q6' per continent of origin, the most used aircraft model among live flights, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, continent, rank, aircraft_model, live_flights
FROM most_used_model_by_continent
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY continent, aircraft_model
