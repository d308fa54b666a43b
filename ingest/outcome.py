"""What became of one received file (or one derived build): the pipeline's one typed outcome.

The same model travels as the check task's XCom, is kept next to the staged rows as the sidecar
JSON until the version is registered, is written as a rejection's ``report.json``, is recorded in
the file ledger, and is what ``hub ingest`` prints per file. Its JSON field names are the ones
those files always had (``rows_read``, ``issues_by_rule``, ``report_dir``, ...).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FileStatus(StrEnum):
    """Where a file stands; the values are the file ledger's."""

    validated = "validated"
    """Checked; its accepted rows are staged and wait for the next publish."""
    published = "published"
    """Its accepted rows are a version of the dataset."""
    rejected = "rejected"
    """Rejected whole (unreadable, empty, or too many rows failing the contract): nothing published."""
    duplicate = "duplicate"
    """The same bytes (or, for a derived dataset, the same input versions) were received before: nothing new."""


class Change(BaseModel):
    """Values standardization rewrote: how many, in which column, by which rule."""

    column: str
    rule: str
    count: int


STAGES = ("build", "read", "standardize", "validate", "data_docs", "stage", "quarantine", "publish", "register")
"""The stages timed in :attr:`FileOutcome.seconds`, in pipeline order."""


class FileOutcome(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dataset: str
    file: str
    sha256: str
    """The file's SHA-256, or for a derived dataset the hash of its input versions (the build key)."""
    status: FileStatus
    reason: str | None = None
    """Why the whole file was rejected."""
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    format: str | None = None
    issues_by_rule: dict[str, int] = Field(default_factory=dict)
    warnings_by_rule: dict[str, int] = Field(default_factory=dict)
    """Findings of soft rules (cross-dataset references), by rule: reported, their rows accepted."""
    warnings: list[str] = Field(default_factory=list)
    """File-level warnings, e.g. a soft reference not checked because its dataset has no version yet."""
    references: dict[str, int] = Field(default_factory=dict)
    """The version of each referenced dataset the file was checked against."""
    issues_by_column: dict[str, int] = Field(default_factory=dict)
    """Row-level issues by the column they are in (``issues_by_rule`` counts the same issues by rule)."""
    changes: list[Change] = Field(default_factory=list)
    ignored_columns: list[str] = Field(default_factory=list)
    checked_at: dt.datetime | None = None
    report_dir: str | None = None
    """The quarantine report (rejected rows, reasons, the original file), or a derived build's unmatched rows."""
    unmatched: dict[str, int] | None = None
    """Derived datasets: rows of an input the build could not match, by report name."""
    lineage: dict[str, Any] | None = None
    """Derived datasets: the input versions built from (``inputs``) and the build key (``build``)."""
    snapshot_id: int | None = None
    committed_at: dt.datetime | None = None
    row_count: int | None = None
    """Rows in the published version (more than accepted when the dataset appends)."""
    version: int | None = None
    validation: dict[str, Any] | None = None
    """GX's result of the check as the catalogue keeps it: suite, success, counts, links (:mod:`quality`)."""
    seconds: dict[str, float] = Field(default_factory=dict)
    """Time spent in each stage (:data:`STAGES`), in seconds."""

    def dump(self) -> dict[str, Any]:
        """The JSON form (XCom, sidecar, ``report.json``), without the fields that do not apply."""
        return self.model_dump(mode="json", exclude_none=True)

    def timed(self, stage: str, seconds: float) -> FileOutcome:
        return self.model_copy(update={"seconds": {**self.seconds, stage: round(seconds, 3)}})

    def quality(self) -> dict[str, Any]:
        """What a catalogue version keeps of the check."""
        return self.model_dump(
            mode="json",
            include={
                "rows_read",
                "rows_accepted",
                "rows_rejected",
                "issues_by_rule",
                "warnings_by_rule",
                "references",
                "issues_by_column",
                "changes",
                "validation",
            },
            exclude_none=True,
        )

    @property
    def outcome(self) -> str:
        """The outcome in words: ``published``, ``rejected whole``, ``nothing new`` or ``checked``."""
        return {
            FileStatus.published: "published",
            FileStatus.rejected: "rejected whole",
            FileStatus.duplicate: "nothing new",
            FileStatus.validated: "checked, not yet published",
        }[self.status]

    def describe(self) -> str:
        """One line for a person: the outcome, the counts, where the report is."""
        if self.status is FileStatus.duplicate:
            return f"{self.file}: nothing new (already received; its rows were handled then)"
        counts = f"{self.rows_read} read, {self.rows_accepted} accepted, {self.rows_rejected} rejected"
        warned = sum(self.warnings_by_rule.values())
        counts += f", {warned} warnings" if warned else ""
        if self.status is FileStatus.published:
            line = f"{self.file}: published as version {self.version}: {counts}"
        elif self.status is FileStatus.rejected:
            line = f"{self.file}: rejected whole: {self.reason}"
        else:
            line = f"{self.file}: {self.outcome}: {counts}"
        reported = (
            self.rows_rejected
            or self.warnings_by_rule
            or self.status is FileStatus.rejected
            or any((self.unmatched or {}).values())
        )
        return line + (f" → report {self.report_dir}" if self.report_dir and reported else "")
