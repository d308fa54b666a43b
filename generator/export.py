"""Writing a department export the way departments do: CSV, Chinese headers, their encoding."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from contracts import model
from hub.settings import get_settings

ENCODINGS = ("gb18030", "utf-8-sig", "utf-8")


@dataclass
class Manifest:
    """What was generated: the truth a test checks the pipeline against."""

    path: Path
    rows: int
    encoding: str
    good_rows: int
    bad_rows: dict[int, str] = field(default_factory=dict)
    """Spreadsheet row number (header = 1) → fault kind."""


def write_csv(out: Path, dataset: str, records: list[dict[str, str]], encoding: str) -> None:
    """Write records under the contract's Chinese column titles, in the contract's field order."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
    contract = model.find(get_settings().contracts_dir, dataset)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f.title for f in contract.fields])
    writer.writerows([[r.get(f.name, "") for f in contract.fields] for r in records])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue().encode(encoding))
