"""Builders of the derived datasets: each is ``build(con, contract) -> Built``.

A builder reads its inputs as DuckDB views named after the input dataset with ``.`` replaced
by ``__`` (``legal_entity__enterprises``), pinned to the input versions the build records as
lineage, and returns the table plus the rows it could not match, which are reported, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class Built:
    table: pa.Table
    unmatched: dict[str, pa.Table] = field(default_factory=dict)
    """Report name → rows that could not be matched (written beside the version's report)."""


def view_name(dataset: str) -> str:
    return dataset.replace(".", "__")
