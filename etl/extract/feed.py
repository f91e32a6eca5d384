"""The feed interface the extractor talks to: a bounding box in, flight records (text values) out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class TransientFeedError(Exception):
    """A failure worth retrying: network error, Cloudflare block, 5xx answer."""


class BlockedFeedError(TransientFeedError):
    """The source asked to slow down (403, 429, a Cloudflare challenge): retried after a longer backoff."""


@dataclass(frozen=True, order=True)
class Bounds:
    """A latitude/longitude box, edges included (a flight on a shared edge is in both tiles)."""

    south: float
    north: float
    west: float
    east: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.south <= self.north <= 90.0 and -180.0 <= self.west <= self.east <= 180.0):
            raise ValueError(f"bounds {self.label} are not a box within lat -90..90, lon -180..180")

    @property
    def label(self) -> str:
        """`south,north,west,east`, how a tile is named in raw rows and stats."""
        return f"{self.south:g},{self.north:g},{self.west:g},{self.east:g}"

    @property
    def fr24(self) -> str:
        """FR24's own bounds parameter: `north,south,west,east`."""
        return f"{self.north:g},{self.south:g},{self.west:g},{self.east:g}"

    @property
    def height(self) -> float:
        return self.north - self.south

    @property
    def width(self) -> float:
        return self.east - self.west

    def contains(self, latitude: float, longitude: float) -> bool:
        """True when the point is inside or on an edge."""
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east

    def quadrants(self) -> tuple[Bounds, Bounds, Bounds, Bounds]:
        """The four quarters (SW, SE, NW, NE), sharing their inner edges."""
        mid_lat = (self.south + self.north) / 2
        mid_lon = (self.west + self.east) / 2
        return (
            Bounds(self.south, mid_lat, self.west, mid_lon),
            Bounds(self.south, mid_lat, mid_lon, self.east),
            Bounds(mid_lat, self.north, self.west, mid_lon),
            Bounds(mid_lat, self.north, mid_lon, self.east),
        )


WORLD = Bounds(-90.0, 90.0, -180.0, 180.0)


class Feed(Protocol):
    """What the extractor needs from a live-traffic source.

    `fetch_flights` raises TransientFeedError for failures worth retrying; any other exception fails the tile.
    """

    def fetch_flights(self, bounds: Bounds) -> list[dict[str, str]]:
        """Flights inside `bounds`, keyed by etl.core.columns.FLIGHT_FIELDS, values as text ("" when missing)."""
        ...

    def fetch_airports(self) -> list[dict[str, Any]]:
        """Airports: iata, icao, name, country, latitude, longitude, altitude."""
        ...

    def fetch_airlines(self) -> list[dict[str, Any]]:
        """Airlines: icao, iata, name."""
        ...
