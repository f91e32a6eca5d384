"""Great-circle distance: the project's one haversine, as a Spark Column function and as plain Python.

Both use the IUGG mean Earth radius (EARTH_RADIUS_KM) and the same formula, so the simulator's and the
benchmarks' distances (plain Python) are the pipeline's (Spark). Spark is imported only when the Column function
is called: the extractor and the simulator use the plain function and must not load Spark.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius R1 (IUGG)


def haversine_km(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    """Great-circle distance in km between two points in degrees (null when any input is null)."""
    from pyspark.sql import functions as F

    phi1, phi2 = F.radians(lat1), F.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = F.radians(lon2 - lon1) / 2  # sin^2 is periodic: crossing the antimeridian needs no care
    a = F.pow(F.sin(half_dphi), 2) + F.cos(phi1) * F.cos(phi2) * F.pow(F.sin(half_dlambda), 2)
    # Rounding can push `a` a hair above 1 for antipodes; F.least would also turn a null into 1, hence when().
    a = F.when(a > 1.0, F.lit(1.0)).otherwise(a)
    return F.lit(2 * EARTH_RADIUS_KM) * F.asin(F.sqrt(a))


def haversine_km_py(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points in degrees, in plain Python (as `haversine_km`)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
