"""The typed file outcome: what a DAG run's tasks returned becomes one outcome per file, in words."""

from __future__ import annotations

from ingest.dag_factory import file_outcomes
from ingest.outcome import FileOutcome, FileStatus


def _o(file: str, status: FileStatus, **more: object) -> dict[str, object]:
    return FileOutcome(dataset="population.residents", file=file, sha256=file * 8, status=status, **more).dump()  # type: ignore[arg-type]


def test_the_register_outcome_replaces_the_check_outcome_of_the_same_file() -> None:
    returned = {
        "discover": [["a.csv", "b.csv", "c.csv"]],
        "check": [
            _o("a", FileStatus.validated, rows_read=10, rows_accepted=9, rows_rejected=1),
            _o("b", FileStatus.rejected, rows_read=10, rows_rejected=10, reason="file has no records"),
            _o("c", FileStatus.duplicate),
        ],
        "register": [[_o("a", FileStatus.published, version=2), _o("d", FileStatus.published, version=1)]],
    }
    found = file_outcomes(returned)
    assert [(o.file, o.status, o.version) for o in found] == [
        ("a", FileStatus.published, 2),
        ("b", FileStatus.rejected, None),
        ("c", FileStatus.duplicate, None),
        ("d", FileStatus.published, 1),  # checked in an earlier run, published in this one
    ]
    assert [o.outcome for o in found] == ["published", "rejected whole", "nothing new", "published"]


def test_describe_says_the_outcome_and_where_the_report_is() -> None:
    rejected = FileOutcome.model_validate(
        _o("x.csv", FileStatus.rejected, reason="file has no records", report_dir="/q/x", rows_read=0)
    )
    assert rejected.describe() == "x.csv: rejected whole: file has no records → report /q/x"
    clean = FileOutcome.model_validate(_o("y.csv", FileStatus.published, version=3, rows_read=5, rows_accepted=5))
    assert clean.describe() == "y.csv: published as version 3: 5 read, 5 accepted, 0 rejected"


def test_the_json_keeps_the_field_names_reports_always_had() -> None:
    dumped = FileOutcome.model_validate(_o("z.csv", FileStatus.validated, rows_read=3)).dump()
    assert {"dataset", "file", "sha256", "status", "rows_read", "rows_accepted", "rows_rejected"} <= set(dumped)
    assert dumped["status"] == "validated" and "version" not in dumped
