-- Bonus: the airport with the largest difference between outgoing and incoming live flights, for one slot. Parameters: tech_day, tech_hour.
SELECT tech_day, tech_hour, rank, airport_iata, airport_name, outgoing, incoming, difference
FROM airport_flow_imbalance
WHERE tech_day = ? AND tech_hour = ? AND rank = 1
ORDER BY airport_iata
