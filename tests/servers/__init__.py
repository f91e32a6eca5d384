"""Local HTTP servers (127.0.0.1 only) that speak FR24's wire formats, for tests; never shipped in etl.zip.

feed_server: FlightRadarAPI's web feed (`/zones/fcgi/feed.js`, `/_json/airports.php`);
fr24api_server: the official Flightradar24 API (`/api/live/flight-positions/full`); local: what both share.
"""
