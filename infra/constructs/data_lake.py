"""The buckets: data lake (raw captures, the Iceberg warehouse, run manifests), Athena results, and logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from etl.core.layout import DATA_ROOT_FOLDERS, RAW, WAREHOUSE

# Prefixes of the data bucket, the job's data root (etl/core/layout.py): raw captures, the Iceberg tables' warehouse
# (data and metadata files, etl/publication/lake.py) and the run manifests; the EMR instance role may write these
# only.
WAREHOUSE_PREFIX = f"{WAREHOUSE}/"
DATA_PREFIXES = tuple(f"{folder}/" for folder in DATA_ROOT_FOLDERS)
RAW_PREFIX = f"{RAW}/"
NONCURRENT_VERSION_DAYS = 7  # README: an overwritten or deleted object's old version is kept a week
EMR_LOG_PREFIX = "emr/"
ACCESS_LOG_PREFIX = "s3-access/"


def _secure_bucket_props() -> dict[str, object]:
    return {
        "encryption": s3.BucketEncryption.S3_MANAGED,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        # Data outlives the stack: `cdk destroy` leaves the buckets, docs/deploy.md says how to empty them.
        "removal_policy": RemovalPolicy.RETAIN,
    }


class DataLake(Construct):
    """Three encrypted, private, SSL-only buckets; the data and results buckets log their accesses."""

    def __init__(self, scope: Construct, construct_id: str, *, raw_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.logs_bucket = s3.Bucket(
            self,
            "Logs",
            **_secure_bucket_props(),  # type: ignore[arg-type]
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-logs", expiration=Duration.days(90)),
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        self.data_bucket = s3.Bucket(
            self,
            "Data",
            **_secure_bucket_props(),  # type: ignore[arg-type]
            # Versions let a bad run's overwrite be undone; they are kept a week only.
            versioned=True,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"{ACCESS_LOG_PREFIX}data/",
            # Only raw/ expires. The warehouse's current files are never expired by lifecycle: Iceberg's snapshot
            # expiry and orphan-file removal delete them when no snapshot needs them any more, and the rule below
            # then removes their old versions after the week.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-raw",
                    prefix=RAW_PREFIX,
                    expiration=Duration.days(raw_retention_days),
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                ),
                s3.LifecycleRule(
                    id="expire-old-versions", noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS)
                ),
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        self.results_bucket = s3.Bucket(
            self,
            "AthenaResults",
            **_secure_bucket_props(),  # type: ignore[arg-type]
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"{ACCESS_LOG_PREFIX}athena-results/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-results", expiration=Duration.days(30)),
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        self.data_root = f"s3://{self.data_bucket.bucket_name}"
        self.emr_log_uri = f"s3://{self.logs_bucket.bucket_name}/{EMR_LOG_PREFIX}"
