-- Trend: live flights per airline per slot over one day (the top 10 airlines of each slot). Parameter: tech_day ('YYYY-MM-DD').
SELECT tech_day, tech_hour, rank, airline_icao, airline_name, live_flights
FROM airline_most_live_flights
WHERE tech_day = ? AND rank <= 10
ORDER BY tech_hour, rank, airline_icao
