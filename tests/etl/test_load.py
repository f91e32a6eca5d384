"""Publication through per-slot pointers, locally and on S3 (moto): what readers see, what is kept, what is deleted."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from etl.layout import RunSlot, table_data_dir, table_partition, table_pointer
from etl.load import recover_publications, run_folders
from etl.storage import LocalStorage, S3Storage
from etl.tables import TableNotPublishedError, current_files, pointer_files, read_rows
from tests.etl.publishing import KEYS, RUN_A, RUN_B, RUN_C, SLOT, published, staged

OTHER = RunSlot.parse("2026-11-22T16")


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path):
    """(storage, data root) of an empty lake, local or on moto's S3."""
    if request.param == "local":
        yield LocalStorage(), str(tmp_path / "lake")
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield S3Storage(client), "s3://lake"


def test_first_publication_points_every_table_at_the_run_and_leaves_no_journal(lake) -> None:
    storage, root = lake
    finals = staged(storage, root, RUN_A).commit()
    assert published(storage, root) == dict.fromkeys(KEYS, "A")
    assert finals["gold/longest_live_flight"] == table_pointer(root, "gold", "longest_live_flight", SLOT)
    assert storage.list_files(f"{root}/_publish/pending") == []


def test_s3_pointer_is_a_symlink_manifest_of_s3_uris(s3) -> None:
    storage = S3Storage(s3)
    staged(storage, "s3://lake", RUN_A).commit()
    body = s3.get_object(Bucket="lake", Key=f"gold/longest_live_flight/{SLOT.partition_path}/symlink.txt")["Body"]
    assert body.read().decode() == (
        "s3://lake/gold/longest_live_flight/data/tech_year=2026/tech_month=2026-11/tech_day=2026-11-22/tech_hour=14/"
        "run_id=20261122T14-20261129T100000Z-aaaaaa/part-00000-aaaaaa.parquet\n"
    )


def test_an_s3a_root_reads_the_s3_entries_with_its_own_scheme() -> None:
    entries = b"s3://lake/gold/t/data/x/run_id=r/part-0.parquet\n"
    assert pointer_files(entries, "s3a://lake") == ["s3a://lake/gold/t/data/x/run_id=r/part-0.parquet"]
    assert pointer_files(entries, "s3://lake") == ["s3://lake/gold/t/data/x/run_id=r/part-0.parquet"]


def test_republication_keeps_the_replaced_version_and_collects_older_ones(lake) -> None:
    storage, root = lake
    staged(storage, root, RUN_A).commit()
    staged(storage, root, RUN_B).commit()
    # B replaced A: A stays for queries that started on it.
    assert sorted(run_folders(storage, root, "gold", "longest_live_flight", SLOT)) == [RUN_A, RUN_B]
    staged(storage, root, RUN_C).commit()
    assert published(storage, root) == dict.fromkeys(KEYS, "C")
    for key in KEYS:
        layer, table = key.split("/", 1)
        assert sorted(run_folders(storage, root, layer, table, SLOT)) == [RUN_B, RUN_C], key


def test_other_slots_are_untouched(lake) -> None:
    storage, root = lake
    staged(storage, root, RUN_A, slot=OTHER).commit()
    before = storage.read_bytes(table_pointer(root, "silver", "flights", OTHER))
    staged(storage, root, RUN_B).commit()
    staged(storage, root, RUN_C).commit()
    assert storage.read_bytes(table_pointer(root, "silver", "flights", OTHER)) == before
    assert published(storage, root, slot=OTHER) == dict.fromkeys(KEYS, "A")


def test_a_failure_before_the_journal_publishes_nothing_and_deletes_the_run_folders(lake) -> None:
    storage, root = lake
    staged(storage, root, RUN_A).commit()
    failed = staged(storage, root, RUN_B)
    failed.discard()  # what the pipeline does when the run fails before commit (e.g. the quality gate)
    assert published(storage, root) == dict.fromkeys(KEYS, "A")
    assert storage.list_files(table_data_dir(root, "silver", "flights", SLOT, RUN_B)) == []


def test_an_older_run_never_replaces_a_newer_pointer(lake) -> None:
    storage, root = lake
    older = staged(storage, root, RUN_A)
    staged(storage, root, RUN_B).commit()
    older.commit()  # A started first but publishes last: B's tables stay
    assert published(storage, root) == dict.fromkeys(KEYS, "B")


def test_recovery_with_nothing_pending_changes_nothing(lake) -> None:
    storage, root = lake
    staged(storage, root, RUN_A).commit()
    assert recover_publications(storage, root) == []
    assert published(storage, root) == dict.fromkeys(KEYS, "A")


def test_a_legacy_partition_of_parquet_files_is_replaced_by_the_pointer(tmp_path: Path) -> None:
    storage, root = LocalStorage(), str(tmp_path)
    legacy = Path(table_partition(root, "gold", "longest_live_flight", SLOT)) / "part-00000-old.snappy.parquet"
    storage.write_bytes(str(legacy), b"written before pointers")
    staged(storage, root, RUN_A).commit()
    assert not legacy.exists()
    assert published(storage, root)["gold/longest_live_flight"] == "A"


def test_reading_a_slot_never_published_names_the_table_and_slot(lake) -> None:
    storage, root = lake
    assert current_files(storage, root, "gold", "longest_live_flight", SLOT) is None
    with pytest.raises(TableNotPublishedError, match="gold/longest_live_flight has no published data for slot 2026-"):
        read_rows(root, "gold", "longest_live_flight", SLOT, storage=storage)


def test_compare_and_swap_writes(lake) -> None:
    storage, root = lake
    path = f"{root}/x/pointer.txt"
    assert storage.read_tagged(path) is None
    assert storage.write_if(path, b"one", None)
    assert not storage.write_if(path, b"again", None)  # exists already
    data, tag = storage.read_tagged(path)
    assert data == b"one"
    assert storage.write_if(path, b"two", tag)
    assert not storage.write_if(path, b"three", tag)  # the tag names "one", which is gone
    assert storage.read_bytes(path) == b"two"


def test_read_slots_tags_each_row_with_every_slot_whose_pointer_lists_its_file(spark, tmp_path: Path) -> None:
    from etl.load import Publication
    from etl.tables import read_slots

    root = str(tmp_path / "lake with a space")  # Spark spells file paths as escaped URIs; the pointers do not
    first, second, never = (RunSlot.parse(f"2026-11-22T{h}") for h in ("10", "12", "14"))
    publication = Publication(LocalStorage(), root, "20261122T10-a", first)
    publication.stage(spark.createDataFrame([("a1", 1), ("a2", 2)], "flight_id string, n int"), "silver", "flights")
    publication.commit()
    # The second slot's pointer lists the first slot's file and one of its own.
    own = Publication(LocalStorage(), root, "20261122T12-b", second)
    own.stage(spark.createDataFrame([("b1", 3)], "flight_id string, n int"), "silver", "flights")
    own.commit()
    shared = current_files(LocalStorage(), root, "silver", "flights", first) or []
    mine = current_files(LocalStorage(), root, "silver", "flights", second) or []
    Path(table_pointer(root, "silver", "flights", second)).write_text("".join(f"{f}\n" for f in shared + mine))

    rows = read_slots(spark, root, "silver", "flights", [first, second, never], "flight_id string, n int", "slot")

    assert sorted(tuple(r) for r in rows.select("slot", "flight_id", "n").collect()) == [
        ("2026-11-22T10", "a1", 1),
        ("2026-11-22T10", "a2", 2),
        ("2026-11-22T12", "a1", 1),
        ("2026-11-22T12", "a2", 2),
        ("2026-11-22T12", "b1", 3),
    ]
