"""The scheduled trigger: turns an EventBridge event into one transient EMR cluster for its run slot."""
