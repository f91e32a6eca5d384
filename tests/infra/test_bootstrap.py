"""The cluster's bootstrap script, run here: it installs the locked wheels it is given, offline, and refuses others."""

from __future__ import annotations

import ensurepip
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.packaging import REPO_ROOT

BOOTSTRAP = REPO_ROOT / "infra" / "emr" / "bootstrap.sh"
# The pip wheel CPython carries for ensurepip: a real pip wheel, with no download.
BUNDLED_PIP = sorted((Path(ensurepip.__file__).parent / "_bundled").glob("pip-*-py3-none-any.whl"))


def _tiny_wheel(folder: Path) -> Path:
    """A minimal pure-Python wheel: package `tinypkg` with VALUE = 42."""
    path = folder / "tinypkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("tinypkg/__init__.py", "VALUE = 42\n")
        wheel.writestr("tinypkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n")
        wheel.writestr(
            "tinypkg-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(
            "tinypkg-1.0.dist-info/RECORD",
            "tinypkg/__init__.py,,\ntinypkg-1.0.dist-info/METADATA,,\ntinypkg-1.0.dist-info/WHEEL,,\n"
            "tinypkg-1.0.dist-info/RECORD,,\n",
        )
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stubs(folder: Path) -> Path:
    """`aws s3 cp --quiet SRC DST` as a plain copy, and `sudo` as nothing: the script's only outside commands."""
    folder.mkdir()
    (folder / "aws").write_text('#!/bin/sh\n[ "$1 $2 $3" = "s3 cp --quiet" ] || exit 9\ncp "$4" "$5"\n')
    (folder / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    for stub in folder.iterdir():
        stub.chmod(0o755)
    return folder


def _run_bootstrap(tmp_path: Path, lock_lines: list[str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    tiny = _tiny_wheel(wheels)
    pip_wheel = wheels / BUNDLED_PIP[-1].name
    pip_wheel.write_bytes(BUNDLED_PIP[-1].read_bytes())
    archive = tmp_path / "wheels.zip"  # as CDK uploads a folder asset: its files at the root of one zip
    with zipfile.ZipFile(archive, "w") as bundle:
        for wheel in (tiny, pip_wheel):
            bundle.write(wheel, wheel.name)
    name, version = pip_wheel.name.split("-")[:2]
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "\n".join(line.format(tiny=_sha256(tiny)) for line in lock_lines)
        + f"\n{name}=={version} --hash=sha256:{_sha256(pip_wheel)}\n"
    )
    # A Python without pip, as emr-7's python3.11 is.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "node")], check=True)
    python = tmp_path / "node" / "bin" / "python"
    # No pip configuration of this machine (indexes, find-links) may help: only what the script is given.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PATH=f"{_stubs(tmp_path / 'stubs')}:{env['PATH']}", PIP_CONFIG_FILE=os.devnull)
    done = subprocess.run(
        ["bash", str(BOOTSTRAP), str(lock), str(archive), str(python)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return done, python


@pytest.mark.skipif(not BUNDLED_PIP, reason="this Python carries no ensurepip wheel")
def test_bootstrap_installs_the_locked_wheels_without_an_index(tmp_path: Path) -> None:
    done, python = _run_bootstrap(tmp_path, ["tinypkg==1.0 --hash=sha256:{tiny}"])

    assert done.returncode == 0, done.stderr
    assert "installed for" in done.stdout
    imported = subprocess.run(
        [str(python), "-c", "import tinypkg; print(tinypkg.VALUE)"], capture_output=True, text=True
    )
    assert imported.stdout.strip() == "42"


@pytest.mark.skipif(not BUNDLED_PIP, reason="this Python carries no ensurepip wheel")
def test_bootstrap_refuses_a_wheel_whose_hash_is_not_locked(tmp_path: Path) -> None:
    done, python = _run_bootstrap(tmp_path, ["tinypkg==1.0 --hash=sha256:" + "0" * 64])

    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr
    imported = subprocess.run([str(python), "-c", "import tinypkg"], capture_output=True, text=True)
    assert imported.returncode != 0
