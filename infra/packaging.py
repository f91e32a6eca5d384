"""Synth-time build of what the cluster and the trigger run: byte-for-byte reproducible artefacts."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# 1980-01-01 is the earliest time a zip entry can hold; a fixed one makes the bytes depend on content only.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
# Provided by EMR itself (Spark 3.5.6 and Iceberg 1.10.0-amzn-1 on emr-7.13.0): installing them again would shadow
# the cluster's build. pyiceberg serves the local readers only (etl show, the report), never the step.
CLUSTER_PROVIDED = {"pyspark", "snowpark-connect-deps-iceberg", "pyiceberg"}


def _zip_files(package_dir: Path, arc_root: str, suffixes: tuple[str, ...]) -> list[tuple[str, Path]]:
    files = [
        p
        for p in package_dir.rglob("*")
        if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.relative_to(package_dir).parts
    ]
    return sorted((f"{arc_root}/{p.relative_to(package_dir).as_posix()}", p) for p in files)


def package_zip_bytes(package_dir: Path, *, suffixes: tuple[str, ...] = (".py",)) -> bytes:
    """A zip of a Python package's sources: sorted entries, fixed times and modes, so one tree gives one byte string."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in _zip_files(package_dir, package_dir.name, suffixes):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.external_attr = (0o100000 | FILE_MODE) << 16  # a regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode above is honoured wherever the zip is built
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def write_package_zip(package_dir: Path, target: Path) -> Path:
    """Write `package_zip_bytes` to `target` (e.g. build/etl.zip) and return it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(package_zip_bytes(package_dir))
    return target


def _runtime_dependencies(text: str) -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the one array this needs from [project]
        block = re.search(r"^\[project\]$(.*?)^dependencies\s*=\s*\[(.*?)^\]", text, re.M | re.S)
        return re.findall(r'"([^"]+)"', block.group(2)) if block else []
    return list(tomllib.loads(text)["project"].get("dependencies", []))


def cluster_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    """The pinned runtime dependencies of pyproject.toml, minus what EMR provides, as a requirements file."""
    lines = []
    for requirement in _runtime_dependencies(pyproject.read_text(encoding="utf-8")):
        name = requirement.split(";")[0].split("==")[0].split("[")[0].strip().lower()
        if name in CLUSTER_PROVIDED:
            continue
        if "==" not in requirement:
            raise ValueError(f"runtime dependency {requirement!r} in {pyproject.name} is not pinned with ==")
        lines.append(requirement.strip())
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def stage_lambda_package(package_dir: Path, target_dir: Path) -> Path:
    """Copy the trigger's sources into `target_dir/<package>/`, so the function imports it as a package."""
    if target_dir.exists():
        shutil.rmtree(target_dir)
    for name, path in _zip_files(package_dir, package_dir.name, (".py",)):
        destination = target_dir / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
    return target_dir
