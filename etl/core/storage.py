"""One small file API over a local folder or S3: atomic writes, reads, listings and deletions."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
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


@dataclass
class S3Storage:
    """Objects in S3; each PUT is atomic. The tables themselves are Iceberg's business (etl/publication/publish.py)."""

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
