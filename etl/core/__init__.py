"""Shared facts and plumbing every layer may use: config, data layout, column lists, storage, logging,
errors, the Spark session settings, the source registry and the offline airports. Imports nothing else of etl.
"""
