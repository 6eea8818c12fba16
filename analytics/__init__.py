"""The analytics core: pure pandas stages (tables in, tables out), wired in analytics.pipeline.

Never imports jobs or dashboard (import contracts in pyproject.toml); the snapshot contract is analytics.schema.
"""
