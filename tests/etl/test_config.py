from __future__ import annotations

import json

import pytest

from etl.config import ConfigError, JobConfig


def test_json_config_with_overrides() -> None:
    text = json.dumps({"data_root": "s3://bucket", "source": "live", "extract": {"concurrency": 8}})
    config = JobConfig.from_json(text, run_slot="2026-11-22T14:00:00Z")
    assert config.data_root == "s3://bucket"
    assert str(config.run_slot) == "2026-11-22T14"
    assert config.extract.concurrency == 8
    assert config.to_dict()["run_slot"] == "2026-11-22T14"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"data_root": "d", "run_slot": "2026-11-22T14", "sourse": "demo"}, "unknown job config key.*sourse"),
        ({"data_root": "d", "run_slot": "2026-11-22T14", "source": "radar"}, "source 'radar' is not one of"),
        ({"data_root": "d", "run_slot": "2026-11-22T14", "source": "snapshot"}, "needs snapshot_path"),
        ({"data_root": "", "run_slot": "2026-11-22T14"}, "data_root is empty"),
        ({"data_root": "d"}, "needs data_root and run_slot"),
        ({"data_root": "d", "run_slot": "2026-11-22T14", "extract": {"concurrency": 0}}, "concurrency"),
        ({"data_root": "d", "run_slot": "2026-11-22T14", "extract": {"tiles": 3}}, "unknown extract setting"),
    ],
)
def test_bad_config_is_refused_naming_the_value(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        JobConfig.from_dict(values)


def test_config_that_is_not_json_is_refused() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        JobConfig.from_json("{data_root: x}")
