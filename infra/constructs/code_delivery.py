"""What the cluster runs, as CDK assets: entry script, etl.zip, job config, bootstrap, locked requirements, wheels."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct


class CodeDelivery(Construct):
    """Uploads each file once per content (the asset key is its hash) and exposes its s3:// URI and ARN."""

    # File assets rather than a BucketDeployment: no custom resource Lambda, content-addressed keys (a deploy never
    # changes a file under a running cluster), and the template deploys anywhere CloudFormation runs.
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        main_script: Path,
        code_zip: Path,
        job_config: Path,
        bootstrap_script: Path,
        requirements: Path,
        wheels: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        files = {
            "MainScript": main_script,
            "CodeZip": code_zip,
            "JobConfig": job_config,
            "BootstrapScript": bootstrap_script,
            "Requirements": requirements,
            "Wheels": wheels,  # a folder: CDK uploads it as one zip
        }
        self.assets = {name: s3_assets.Asset(self, name, path=str(path)) for name, path in files.items()}
        self.main_uri = self.assets["MainScript"].s3_object_url
        self.code_uri = self.assets["CodeZip"].s3_object_url
        self.job_config_uri = self.assets["JobConfig"].s3_object_url
        self.bootstrap_uri = self.assets["BootstrapScript"].s3_object_url
        self.requirements_uri = self.assets["Requirements"].s3_object_url
        self.wheels_uri = self.assets["Wheels"].s3_object_url
        # Exact object ARNs: the cluster may read these six objects of the asset bucket and nothing else there.
        self.object_arns = [
            f"arn:{Aws.PARTITION}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}" for asset in self.assets.values()
        ]
