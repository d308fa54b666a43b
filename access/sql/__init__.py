"""Analysts' SQL: a guard (parse, check, rewrite onto policy views) and a locked DuckDB sandbox.

See docs/sql.md. :class:`access.sql.engine.Engine` runs one query end to end.
"""
