"""The lake: its Iceberg tables, one commit per table and repair, the run manifests, the readers of
published slots without Spark, and the run metrics in CloudWatch.
"""
