"""Spark transforms of the data: cleaning raw rows into silver, enrichment with the references, the KPI
tables and their catalog. No lake I/O, no orchestration (import contract `transforms-without-io`).
"""
