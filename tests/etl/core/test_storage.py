from __future__ import annotations

from pathlib import Path

from etl.core.storage import LocalStorage, S3Storage, storage_for


def test_local_write_is_atomic_and_readable(tmp_path: Path) -> None:
    store = LocalStorage()
    target = str(tmp_path / "a" / "b.txt")
    store.write_bytes(target, b"one")
    store.write_bytes(target, b"two")
    assert store.read_bytes(target) == b"two"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.txt"]  # no temporary file left behind


def test_s3_round_trip_and_listing_does_not_match_siblings(s3) -> None:
    store = S3Storage(s3)
    store.write_bytes("s3://lake/raw/x/a.csv", b"a")
    store.write_bytes("s3://lake/raw/xy/b.csv", b"b")
    assert store.read_bytes("s3://lake/raw/x/a.csv") == b"a"
    assert store.list_files("s3://lake/raw/x") == ["s3://lake/raw/x/a.csv"]
    assert store.exists("s3://lake/raw/xy/b.csv")
    assert not store.exists("s3://lake/raw/z")


def test_storage_for_picks_by_scheme() -> None:
    assert isinstance(storage_for("/tmp/x"), LocalStorage)
    assert isinstance(storage_for("s3://bucket/prefix"), S3Storage)
