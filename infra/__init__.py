"""The AWS CDK app: scheduled trigger, transient EMR cluster, data lake, catalog and alarms."""
