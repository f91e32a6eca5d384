from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from etl.core.config import ConfigError, ExtractSettings, JobConfig, LakeSettings, QualitySettings, check_data_root
from etl.core.layout import RunSlotError


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


def _wrong_value(hint: str) -> object:
    """A JSON value of another type than the field's annotation says."""
    if hint.startswith(("int", "float")):
        return "abc"
    if hint.startswith("bool"):
        return "yes"
    if hint.startswith("dict"):
        return ["x"]
    return 12  # str, str | None


def _section_cases() -> list[tuple[str, str, object]]:
    cases = []
    for section, cls in (("extract", ExtractSettings), ("quality", QualitySettings), ("lake", LakeSettings)):
        cases += [(section, f.name, _wrong_value(str(f.type))) for f in fields(cls)]
    return cases


@pytest.mark.parametrize(("section", "name", "value"), _section_cases())
def test_every_section_setting_of_the_wrong_type_is_refused_naming_it(section: str, name: str, value: object) -> None:
    values = {"data_root": "d", "run_slot": "2026-11-22T14", section: {name: value}}
    with pytest.raises(ConfigError) as raised:
        JobConfig.from_dict(values)
    assert str(raised.value).startswith(f"{section}.{name} must be ") or (
        name == "coverage_floors" and "coverage_floors must be an object" in str(raised.value)
    )
    assert "\n" not in str(raised.value)


TOP_LEVEL = [f.name for f in fields(JobConfig) if f.name not in ("extract", "quality", "lake", "sources", "run_slot")]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_every_top_level_key_of_the_wrong_type_is_refused_naming_it(name: str) -> None:
    hint = {f.name: str(f.type) for f in fields(JobConfig)}[name]
    values = {"data_root": "d", "run_slot": "2026-11-22T14", name: _wrong_value(hint)}
    with pytest.raises(ConfigError, match=rf"^{name} must be (an integer|a string)"):
        JobConfig.from_dict(values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"extract": {"tile_cap": "abc"}}, 'extract.tile_cap must be an integer, not "abc"'),
        ({"extract": {"timeout_s": None}}, "extract.timeout_s must be a number, not null"),
        ({"extract": {"max_stale_share": float("nan")}}, "extract.max_stale_share must be a number, not NaN"),
        ({"extract": {"retries": True}}, "extract.retries must be an integer, not true"),
        ({"demo_flights": "many"}, 'demo_flights must be an integer, not "many"'),
        ({"quality": "strict"}, 'quality must be an object of settings, not "strict"'),
        ({"extract": 5}, "extract must be an object of settings, not 5"),
        ({"alerts_topic": 12}, "alerts_topic must be a string or null, not 12"),
        ({"lake": {"warehouse": 3}}, "lake.warehouse must be a string or null, not 3"),
        ({"run_slot": 2026112214}, "run_slot must be a run slot YYYY-MM-DDTHH, not 2026112214"),
        ({"run_slot": ""}, "run slot '' is not of the form YYYY-MM-DDTHH"),
    ],
)
def test_wrong_types_are_refused_in_one_line(values: dict, message: str) -> None:
    with pytest.raises(ConfigError if "run slot '" not in message else RunSlotError) as raised:
        JobConfig.from_dict({"data_root": "d", "run_slot": "2026-11-22T14", **values})
    assert str(raised.value).startswith(message)


def test_a_data_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "lake.txt"
    file.write_text("not a folder")
    with pytest.raises(ConfigError, match=rf"^data root {file} is a file, not a folder$"):
        check_data_root(str(file))
    with pytest.raises(ConfigError, match=rf"^data root {file}/lake is under {file}, which is a file, not a folder$"):
        check_data_root(str(file / "lake"))


def test_a_new_or_writable_data_root_and_s3_pass(tmp_path: Path) -> None:
    check_data_root(str(tmp_path))
    check_data_root(str(tmp_path / "new" / "lake"))
    check_data_root("s3://bucket/lake")
    assert list(tmp_path.iterdir()) == []  # the write check leaves nothing behind


def test_an_unwritable_data_root_is_refused(tmp_path: Path, monkeypatch) -> None:
    # root may write anywhere, so the refusal of the folder is simulated where the check asks the system.
    monkeypatch.setattr("etl.core.config._can_create_in", lambda folder: folder != tmp_path)
    with pytest.raises(ConfigError, match=rf"^data root {tmp_path} is not writable by this user$"):
        check_data_root(str(tmp_path))
    check_data_root(str(tmp_path), write=False)  # readers only need the folder
