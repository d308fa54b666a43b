"""One ingestion DAG per active data contract (see ingest/dag_factory.py).

Airflow's safe-mode parser only reads files that mention both "airflow" and "dag", hence the
explicit import below.
"""

from airflow.sdk import DAG

from ingest.dag_factory import build_all

DAGS: dict[str, DAG] = build_all()
globals().update(DAGS)

if __name__ == "__main__":
    for _dag in DAGS.values():
        _dag.test()
