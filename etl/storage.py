"""One small file API over a local folder or S3, with whole-directory replacement for atomic partitions."""

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
    def replace_tree(self, staged: str, final: str) -> None: ...


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
        shutil.rmtree(prefix, ignore_errors=True)

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


@dataclass
class S3Storage:
    """Objects in S3. Each PUT is atomic; a tree is replaced by copying the new objects in, then deleting the rest."""

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
