"""The one haversine: the Spark Column function and the plain one agree, on distances worked by hand."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from etl.transform.geo import haversine_km, haversine_km_py

# (lat1, lon1, lat2, lon2) -> km on the sphere of radius 6371.0088 km, each worked by hand:
# along the equator or a meridian the distance is R times the angle in radians (R * pi = 20,015.114 km).
KNOWN_DISTANCES = [
    ((0.0, 0.0, 0.0, 0.0), 0.0),  # the same point
    ((0.0, 0.0, 0.0, 90.0), 10007.557),  # a quarter of the equator: R * pi / 2
    ((0.0, 0.0, 90.0, 0.0), 10007.557),  # equator to the North Pole: R * pi / 2
    ((0.0, 0.0, 0.0, 180.0), 20015.114),  # antipodes: R * pi (the formula's rounding must not overflow asin)
    ((0.0, 179.5, 0.0, -179.5), 111.195),  # one degree across the antimeridian, not 359: R * pi / 180
    ((-45.0, 10.0, 45.0, 10.0), 10007.557),  # 90 degrees along a meridian, across the equator
    # Paris CDG (49.0097, 2.5479) to New York JFK (40.6413, -73.7781): 5,833.5 km on this sphere
    # (published great-circle figures on the WGS84 ellipsoid are some 10 km more).
    ((49.0097, 2.5479, 40.6413, -73.7781), 5833.5),
]


@pytest.mark.parametrize(("points", "km"), KNOWN_DISTANCES)
def test_plain_haversine_known_distances(points, km):
    assert haversine_km_py(*points) == pytest.approx(km, abs=0.05)


def test_column_haversine_matches_the_plain_one_and_the_known_distances(spark):
    rows = [(i, *points) for i, (points, _) in enumerate(KNOWN_DISTANCES)]
    frame = spark.createDataFrame(rows, "i int, lat1 double, lon1 double, lat2 double, lon2 double")
    got = {
        r["i"]: r["d"]
        for r in frame.select(
            "i", haversine_km(*(F.col(c) for c in ("lat1", "lon1", "lat2", "lon2"))).alias("d")
        ).collect()
    }
    for i, (points, km) in enumerate(KNOWN_DISTANCES):
        assert got[i] == pytest.approx(km, abs=0.05), points
        assert got[i] == pytest.approx(haversine_km_py(*points), rel=1e-12), points


def test_column_haversine_is_null_when_a_coordinate_is_null(spark):
    frame = spark.createDataFrame([(49.0, None)], "lat double, lon double")
    row = frame.select(haversine_km(F.col("lat"), F.col("lon"), F.lit(40.6), F.lit(-73.8)).alias("d")).first()
    assert row["d"] is None
