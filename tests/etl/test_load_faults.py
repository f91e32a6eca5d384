"""Publication under faults: an S3 error between two tables, a reader during the switch, two runs of one slot."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from etl.layout import table_data_dir
from etl.load import PublicationError, recover_publications, run_folders
from etl.storage import LocalStorage, S3Storage
from tests.etl.publishing import KEYS, RUN_A, RUN_B, RUN_C, published, staged

RUN_D = "20261122T14-20261129T130000Z-dddddd"

ROOT = "s3://lake"
S3_INTERNAL_ERROR = {
    "Error": {"Code": "InternalError", "Message": "We encountered an internal error. Please try again."}
}


class FaultyS3:
    """A boto3 S3 client failing the PUTs `fail` picks (after storing them, if `stored`); `after` runs after writes."""

    def __init__(
        self, client: Any, fail: Callable[[str], bool] = lambda key: False, after=lambda: None, stored: bool = False
    ) -> None:
        self._client, self.fail, self.after, self.stored = client, fail, after, stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if self.fail(kwargs["Key"]):
            if self.stored:  # the object was written, but the answer never came back
                self._client.put_object(**kwargs)
            raise ClientError(S3_INTERNAL_ERROR, "PutObject")
        answer = self._client.put_object(**kwargs)
        self.after()
        return answer

    def delete_objects(self, **kwargs: Any) -> Any:
        answer = self._client.delete_objects(**kwargs)
        self.after()
        return answer


def nth_pointer(n: int) -> Callable[[str], bool]:
    """Fail the n-th pointer PUT (1-based) and every later one."""
    seen = {"pointers": 0}

    def fail(key: str) -> bool:
        if key.endswith("/symlink.txt"):
            seen["pointers"] += 1
            return seen["pointers"] >= n
        return False

    return fail


def test_an_s3_error_between_two_tables_then_the_next_run_repairs(s3) -> None:
    healthy = S3Storage(s3)
    staged(healthy, ROOT, RUN_A).commit()
    broken = S3Storage(FaultyS3(s3, fail=nth_pointer(3)))
    run_b = staged(broken, ROOT, RUN_B)

    with pytest.raises(PublicationError, match="stopped after 2 of 4 tables at gold/airline_most_live_flights"):
        run_b.commit()
    run_b.discard()  # the pipeline's failure path: B's files stay, its journal names them

    # Each table is wholly A's or wholly B's; the journal says B's publication is unfinished.
    assert published(healthy, ROOT) == {
        "silver/flights": "B",
        "quarantine/flights": "B",
        "gold/airline_most_live_flights": "A",
        "gold/longest_live_flight": "A",
    }
    assert healthy.list_files(f"{ROOT}/_publish/pending") == [f"{ROOT}/_publish/pending/{RUN_B}.json"]

    # The next run (of any slot) starts by rolling B forward.
    assert recover_publications(healthy, ROOT) == [RUN_B]
    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "B")
    assert healthy.list_files(f"{ROOT}/_publish/pending") == []
    assert sorted(run_folders(healthy, ROOT, "gold", "longest_live_flight", run_b.slot)) == [RUN_A, RUN_B]

    staged(healthy, ROOT, RUN_C).commit()
    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "C")


def test_an_s3_error_on_the_journal_publishes_nothing(s3) -> None:
    healthy = S3Storage(s3)
    staged(healthy, ROOT, RUN_A).commit()
    run_b = staged(S3Storage(FaultyS3(s3, fail=lambda key: key.startswith("_publish/"))), ROOT, RUN_B)

    with pytest.raises(ClientError, match="InternalError"):
        run_b.commit()
    run_b.discard()

    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "A")
    assert healthy.list_files(table_data_dir(ROOT, "silver", "flights", run_b.slot, RUN_B)) == []
    assert recover_publications(healthy, ROOT) == []


def test_a_journal_stored_but_answered_with_an_error_is_withdrawn(s3) -> None:
    healthy = S3Storage(s3)
    staged(healthy, ROOT, RUN_A).commit()
    lost = FaultyS3(s3, fail=lambda key: key.startswith("_publish/"), stored=True)
    run_b = staged(S3Storage(lost), ROOT, RUN_B)

    with pytest.raises(ClientError, match="InternalError"):
        run_b.commit()
    run_b.discard()

    # No journal is left to roll forward onto B's deleted folders.
    assert healthy.list_files(f"{ROOT}/_publish/pending") == []
    assert recover_publications(healthy, ROOT) == []
    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "A")


def test_an_s3_error_while_collecting_old_versions_leaves_the_publication_done(s3) -> None:
    healthy = S3Storage(s3)
    staged(healthy, ROOT, RUN_A).commit()
    staged(healthy, ROOT, RUN_B).commit()

    class NoDeletes(FaultyS3):
        def delete_objects(self, **kwargs: Any) -> Any:
            raise ClientError(S3_INTERNAL_ERROR, "DeleteObjects")

    run_c = staged(S3Storage(NoDeletes(s3)), ROOT, RUN_C)
    run_c.commit()  # every pointer switched: the run succeeds though neither its journal nor A could be deleted

    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "C")
    assert recover_publications(healthy, ROOT) == [RUN_C]  # the next run marks it done (switching nothing)
    assert healthy.list_files(f"{ROOT}/_publish/pending") == []
    assert published(healthy, ROOT) == dict.fromkeys(KEYS, "C")
    # A is collected by the slot's next publication, which replaces C and keeps it.
    assert sorted(run_folders(healthy, ROOT, "silver", "flights", run_c.slot)) == [RUN_A, RUN_B, RUN_C]
    staged(healthy, ROOT, RUN_D).commit()
    assert sorted(run_folders(healthy, ROOT, "silver", "flights", run_c.slot)) == [RUN_C, RUN_D]


def test_readers_during_the_switch_see_each_table_wholly_old_or_new(s3) -> None:
    healthy = S3Storage(s3)
    staged(healthy, ROOT, RUN_A).commit()
    views: list[str] = []

    def look() -> None:
        # published() fails if a table lists files of two runs or its rows are not one run's.
        view = "".join(published(healthy, ROOT).values())
        if not views or views[-1] != view:
            views.append(view)

    staged(S3Storage(FaultyS3(s3, after=look)), ROOT, RUN_B).commit()
    # One table at a time, in publication order, never back.
    assert views == ["AAAA", "BAAA", "BBAA", "BBBA", "BBBB"]


class Interleaved(LocalStorage):
    """Local storage that runs `meanwhile` once, right after its n-th successful pointer switch."""

    def __init__(self, n: int, meanwhile: Callable[[], None]) -> None:
        self.n, self.meanwhile, self.switched = n, meanwhile, 0

    def write_if(self, path: str, data: bytes, tag: str | None) -> bool:
        done = super().write_if(path, data, tag)
        if done and path.endswith("/symlink.txt"):
            self.switched += 1
            if self.switched == self.n:
                self.meanwhile()
        return done


@pytest.mark.parametrize(("first", "second"), [(RUN_A, RUN_B), (RUN_B, RUN_A)])
def test_two_runs_of_one_slot_at_once_end_wholly_on_the_later_run(tmp_path, first, second) -> None:
    root = str(tmp_path)
    other = staged(LocalStorage(), root, second)
    # `first` has switched two tables when `second` publishes all of its own, then `first` goes on.
    staged(Interleaved(2, other.commit), root, first).commit()
    assert published(LocalStorage(), root) == dict.fromkeys(KEYS, "B")  # B started later, whatever the order


class AtomicPuts:
    """moto checks a PUT's condition and stores the object in two steps; S3 does both at once: so does this client."""

    def __init__(self, client: Any) -> None:
        self._client, self._lock = client, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.put_object(**kwargs)


def test_two_runs_of_one_slot_on_s3_in_threads_end_wholly_on_the_later_run(s3) -> None:
    storage = S3Storage(AtomicPuts(s3))
    staged(storage, ROOT, RUN_A).commit()
    runs = [staged(storage, ROOT, RUN_C), staged(storage, ROOT, RUN_B)]
    errors: list[BaseException] = []

    def publish(run) -> None:
        try:
            run.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert published(storage, ROOT) == dict.fromkeys(KEYS, "C")
