"""The sources a run can read, one line each: what the job config, the command line, the extractor and the stack
need to know of a source, read from here and written nowhere else.

A source's code is one module of etl/extract/sources; the line below names its factory as `module:function`, imported
only when the source is used, so this module imports nothing of the sources (no SDK, no HTTP client, no simulator) and
the job config, the extractor and the stack can all read it. A tiled source's factory builds the feed the tiler reads,
`(config, now) -> Feed` (etl.extract.feed.Feed); a source read whole builds its capture, `(config, storage) -> Snapshot`
(etl.extract.sources.snapshot.Snapshot). A source whose API needs a token names the job config keys of its environment
variable and of its Secrets Manager secret (both fields of etl.core.config.JobConfig).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Token:
    """An API token: an environment variable on a laptop, a Secrets Manager secret on AWS (the stack creates it)."""

    env_var: str  # the environment variable read by default (the job config key `env_key` may name another)
    env_key: str  # job config key: the environment variable holding the token
    secret_key: str  # job config key: the Secrets Manager secret (name or ARN) holding it; wins over the variable
    issuer: str  # who issues it, as the stack's secret describes it


@dataclass(frozen=True)
class Source:
    """One source of flights."""

    name: str
    title: str  # what it is, for the command line's help
    factory: str  # `module:function` building its feed (tiled) or its capture (read whole)
    aliases: tuple[str, ...] = ()  # other names it answers to
    tiled: bool = True  # read tile by tile through the tiler; False: one capture read whole
    # A service over the network: its requests are kept under the politeness ceiling with random backoff jitter,
    # and its positions must be fresh against the clock. Not remote: in-process (no ceiling, seeded jitter, so runs
    # repeat exactly) or a recording.
    remote: bool = True
    cap_key: str | None = None  # job config key of its tile cap; None: extract.tile_cap (the web feed's 1,500)
    token: Token | None = None  # the API token it needs, if any
    deployable: bool = True  # the stack may schedule it (a recording has nothing to capture every two hours)
    feed_airports: str = ""  # the feed lists airports (fetch_airports), recorded under this name; "": it does not
    feed_airlines: str = ""  # the feed lists airlines (fetch_airlines), recorded under this name; "": it does not

    def load(self) -> Callable[..., Any]:
        """The factory itself (its module imported now)."""
        module, _, function = self.factory.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


FR24API_TOKEN = Token(
    env_var="FR24_API_TOKEN", env_key="fr24api_token_env", secret_key="fr24api_token_secret", issuer="Flightradar24"
)

REGISTRY: tuple[Source, ...] = (
    Source(
        "demo",
        "a simulated world served like the web feed",
        "etl.extract.sources.simulated:feed",
        remote=False,
        feed_airlines="simulator",
    ),
    Source(
        "flightradarapi",
        "FlightRadarAPI's web feed",
        "etl.extract.sources.flightradarapi:feed",
        aliases=("live",),
        feed_airports="fr24",
        feed_airlines="fr24",
    ),
    Source(
        "fr24api",
        "the official Flightradar24 API",
        "etl.extract.sources.fr24api:feed",
        cap_key="fr24api_limit",
        token=FR24API_TOKEN,
    ),
    Source(
        "snapshot",
        "a recorded capture: CSV, JSON or Parquet",
        "etl.extract.sources.snapshot:capture",
        tiled=False,
        remote=False,
        deployable=False,
    ),
)

SOURCES: tuple[str, ...] = tuple(s.name for s in REGISTRY)
SOURCE_ALIASES: dict[str, str] = {alias: s.name for s in REGISTRY for alias in s.aliases}
_BY_NAME = {s.name: s for s in REGISTRY}


def canonical_source(name: str) -> str:
    """The source a name stands for: `live` -> `flightradarapi`; other names as they are."""
    return SOURCE_ALIASES.get(name, name)


def find(name: str) -> Source | None:
    """The source a name or an alias stands for; None for a name no source has."""
    return _BY_NAME.get(canonical_source(name))


def source(name: str) -> Source:
    """The source a name or an alias stands for; KeyError for a name no source has (the job config checks first)."""
    found = find(name)
    if found is None:
        raise KeyError(f"no source is named {name!r}")
    return found


def source_names(*, deployable: bool = False) -> tuple[str, ...]:
    """Every name a source answers to, its own first, then the aliases; `deployable`: the stack's sources only."""
    chosen = [s for s in REGISTRY if s.deployable or not deployable]
    return (*(s.name for s in chosen), *(a for s in chosen for a in s.aliases))


def is_remote(name: str) -> bool:
    """True for a source served over the network (see Source.remote); False for any other name."""
    found = find(name)
    return found is not None and found.remote
