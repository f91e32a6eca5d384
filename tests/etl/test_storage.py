from __future__ import annotations

from pathlib import Path

from etl.storage import LocalStorage, S3Storage, storage_for


def test_local_write_is_atomic_and_readable(tmp_path: Path) -> None:
    store = LocalStorage()
    target = str(tmp_path / "a" / "b.txt")
    store.write_bytes(target, b"one")
    store.write_bytes(target, b"two")
    assert store.read_bytes(target) == b"two"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.txt"]  # no temporary file left behind


def test_local_replace_tree_swaps_whole_directories(tmp_path: Path) -> None:
    store = LocalStorage()
    final = tmp_path / "gold" / "t" / "tech_hour=14"
    final.mkdir(parents=True)
    (final / "old.parquet").write_bytes(b"old")
    sibling = tmp_path / "gold" / "t" / "tech_hour=16"
    sibling.mkdir()
    (sibling / "keep.parquet").write_bytes(b"keep")
    staged = tmp_path / "_staging" / "x"
    staged.mkdir(parents=True)
    (staged / "new.parquet").write_bytes(b"new")

    store.replace_tree(str(staged), str(final))

    assert sorted(p.name for p in final.iterdir()) == ["new.parquet"]
    assert (sibling / "keep.parquet").read_bytes() == b"keep"
    assert not staged.exists()
    assert sorted(p.name for p in final.parent.iterdir()) == ["tech_hour=14", "tech_hour=16"]


def test_s3_round_trip_and_listing_does_not_match_siblings(s3) -> None:
    store = S3Storage(s3)
    store.write_bytes("s3://lake/raw/x/a.csv", b"a")
    store.write_bytes("s3://lake/raw/xy/b.csv", b"b")
    assert store.read_bytes("s3://lake/raw/x/a.csv") == b"a"
    assert store.list_files("s3://lake/raw/x") == ["s3://lake/raw/x/a.csv"]
    assert store.exists("s3://lake/raw/xy/b.csv")
    assert not store.exists("s3://lake/raw/z")


def test_s3_replace_tree_leaves_exactly_the_new_objects(s3) -> None:
    store = S3Storage(s3)
    store.write_bytes("s3://lake/gold/t/h=14/old-1.parquet", b"old")
    store.write_bytes("s3://lake/gold/t/h=14/same.parquet", b"old")
    store.write_bytes("s3://lake/gold/t/h=16/other.parquet", b"other")
    store.write_bytes("s3://lake/_staging/r/t/same.parquet", b"new")
    store.write_bytes("s3://lake/_staging/r/t/new-2.parquet", b"new2")

    store.replace_tree("s3://lake/_staging/r/t", "s3://lake/gold/t/h=14")

    assert store.list_files("s3://lake/gold/t/h=14") == [
        "s3://lake/gold/t/h=14/new-2.parquet",
        "s3://lake/gold/t/h=14/same.parquet",
    ]
    assert store.read_bytes("s3://lake/gold/t/h=14/same.parquet") == b"new"
    assert store.read_bytes("s3://lake/gold/t/h=16/other.parquet") == b"other"
    assert store.list_files("s3://lake/_staging") == []


def test_storage_for_picks_by_scheme() -> None:
    assert isinstance(storage_for("/tmp/x"), LocalStorage)
    assert isinstance(storage_for("s3://bucket/prefix"), S3Storage)
