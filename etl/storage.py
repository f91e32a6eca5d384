"""One small file API over a local folder or S3: atomic writes, compare-and-swap writes, whole-directory replacement."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Storage(Protocol):
    """What the job needs from its data root."""

    def write_bytes(self, path: str, data: bytes) -> None: ...
    def read_bytes(self, path: str) -> bytes: ...
    def exists(self, path: str) -> bool: ...
    def list_files(self, prefix: str) -> list[str]: ...
    def delete_tree(self, prefix: str) -> None: ...
    def replace_tree(self, staged: str, final: str) -> None: ...
    def read_tagged(self, path: str) -> tuple[bytes, str] | None: ...
    def write_if(self, path: str, data: bytes, tag: str | None) -> bool: ...


def is_s3(path: str) -> bool:
    """True for s3:// (and EMRFS s3a://, s3n://) URIs."""
    return path.startswith(("s3://", "s3a://", "s3n://"))


def storage_for(root: str, s3_client: Any | None = None) -> Storage:
    """The storage behind a data root."""
    return S3Storage(s3_client) if is_s3(root) else LocalStorage()


class LocalStorage:
    """Files under a local folder; writes go through a temporary file and an atomic rename."""

    def write_bytes(self, path: str, data: bytes) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def list_files(self, prefix: str) -> list[str]:
        base = Path(prefix)
        if base.is_file():
            return [str(base)]
        if not base.is_dir():
            return []
        return sorted(str(p) for p in base.rglob("*") if p.is_file())

    def delete_tree(self, prefix: str) -> None:
        if Path(prefix).is_file():
            Path(prefix).unlink(missing_ok=True)
            return
        shutil.rmtree(prefix, ignore_errors=True)

    @contextmanager
    def _locked(self, path: str) -> Iterator[None]:
        # An advisory lock beside the object: the kernel releases it when the holder dies, even by SIGKILL.
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(f".{target.name}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_tagged(self, path: str) -> tuple[bytes, str] | None:
        """The file's bytes and a tag naming this content (its SHA-256), or None when there is no file."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def write_if(self, path: str, data: bytes, tag: str | None) -> bool:
        """Write only if the file still holds the content `tag` names (None: only if there is no file)."""
        with self._locked(path):
            current = self.read_tagged(path)
            if (current[1] if current else None) != tag:
                return False
            self.write_bytes(path, data)
            return True

    def replace_tree(self, staged: str, final: str) -> None:
        """Swap `final` for `staged` with two renames, so readers see the old or the new tree, never a mix."""
        final_path = Path(final)
        final_path.parent.mkdir(parents=True, exist_ok=True)
        trash = final_path.with_name(f".{final_path.name}.old-{uuid.uuid4().hex}")
        had_old = final_path.exists()
        if had_old:
            os.replace(final_path, trash)
        try:
            os.replace(staged, final_path)
        except BaseException:
            if had_old:
                os.replace(trash, final_path)
            raise
        if had_old:
            shutil.rmtree(trash, ignore_errors=True)


# What S3 answers when a conditional write loses: 412 (the ETag moved) or 409 (a concurrent conditional write).
_CONDITION_FAILED = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


@dataclass
class S3Storage:
    """Objects in S3. Each PUT is atomic; conditional PUTs (If-Match, If-None-Match) give compare-and-swap.

    replace_tree copies the new objects in, then deletes the rest: a reader may see both for a moment, so only the raw
    landing (one file of a fixed name per slot) uses it; published tables switch through a pointer (etl/load.py).
    """

    client: Any = None
    _resolved: Any = field(default=None, init=False, repr=False)

    @property
    def s3(self) -> Any:
        if self._resolved is None:
            if self.client is None:
                import boto3

                self.client = boto3.client("s3")
            self._resolved = self.client
        return self._resolved

    @staticmethod
    def split(uri: str) -> tuple[str, str]:
        """`s3://bucket/key` -> (bucket, key)."""
        without_scheme = uri.split("://", 1)[1]
        bucket, _, key = without_scheme.partition("/")
        return bucket, key

    def write_bytes(self, path: str, data: bytes) -> None:
        bucket, key = self.split(path)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def read_bytes(self, path: str) -> bytes:
        bucket, key = self.split(path)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def exists(self, path: str) -> bool:
        bucket, key = self.split(path)
        if any(True for _ in self._keys(bucket, key)):
            return True
        return False

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def list_files(self, prefix: str) -> list[str]:
        bucket, key = self.split(prefix)
        scheme = prefix.split("://", 1)[0]
        # A directory-like prefix must not match siblings: raw/x must not list raw/xy.
        keys = [k for k in self._keys(bucket, key) if k == key or k.startswith(key.rstrip("/") + "/")]
        return sorted(f"{scheme}://{bucket}/{k}" for k in keys)

    def delete_tree(self, prefix: str) -> None:
        bucket, _ = self.split(prefix)
        keys = [self.split(uri)[1] for uri in self.list_files(prefix)]
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})

    def replace_tree(self, staged: str, final: str) -> None:
        """Copy the staged objects over, then delete final's objects that the new tree does not have."""
        s_bucket, s_key = self.split(staged)
        f_bucket, f_key = self.split(final)
        new_keys = set()
        for uri in self.list_files(staged):
            rel = self.split(uri)[1][len(s_key.rstrip("/")) + 1 :]
            target = f"{f_key.rstrip('/')}/{rel}"
            self.s3.copy_object(Bucket=f_bucket, Key=target, CopySource={"Bucket": s_bucket, "Key": self.split(uri)[1]})
            new_keys.add(target)
        stale = [self.split(u)[1] for u in self.list_files(final) if self.split(u)[1] not in new_keys]
        for start in range(0, len(stale), 1000):
            chunk = stale[start : start + 1000]
            self.s3.delete_objects(Bucket=f_bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        self.delete_tree(staged)

    def read_tagged(self, path: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when there is no object."""
        bucket, key = self.split(path)
        try:
            answer = self.s3.get_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return answer["Body"].read(), answer["ETag"]

    def write_if(self, path: str, data: bytes, tag: str | None) -> bool:
        """PUT only if the object still has ETag `tag` (If-Match), or is absent when tag is None (If-None-Match)."""
        bucket, key = self.split(path)
        condition = {"IfMatch": tag} if tag is not None else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=data, **condition)
        except Exception as exc:
            # If-Match on an object deleted meanwhile answers 404: a lost race as well.
            if _condition_failed(exc) or (tag is not None and _error_code(exc) == "NoSuchKey"):
                return False
            raise
        return True


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _condition_failed(exc: Exception) -> bool:
    return _error_code(exc) in _CONDITION_FAILED
