-- Q6 per airline country, the top 3 aircraft models in use, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, airline_country, rank, aircraft_model, live_flights
FROM top_models_by_airline_country
WHERE tech_day = ? AND tech_hour = ? AND rank <= 3
ORDER BY airline_country, rank, aircraft_model
