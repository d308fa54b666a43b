"""One ingestion DAG per active data contract (see ingest/dag_factory.py)."""

from ingest.dag_factory import build_all

globals().update(build_all())

if __name__ == "__main__":
    for _dag in build_all().values():
        _dag.test()
