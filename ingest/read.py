"""Read a department's file into an Arrow table of strings, whatever encoding it came in.

Departments send CSV in GB18030 or UTF-8 (often with a BOM), and Parquet. Every column is read
as text: turning text into types is standardization's job, where a bad value becomes a
row-level issue instead of a failed file.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contracts.model import Contract
from hub.errors import InputError

SNIFF_BYTES = 256 * 1024
FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet"}


@dataclass
class RawBatch:
    """A file's rows as strings, columns renamed to contract field names."""

    table: pa.Table
    encoding: str | None
    format: str
    ignored_columns: list[str] = field(default_factory=list)


def sniff_encoding(head: bytes) -> str:
    """``utf-8-sig`` for a BOM, ``utf-8`` when the sample decodes strictly, else ``gb18030``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")("strict").decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot decode as UTF-8 or GB18030 (byte {exc.start}); save the export as CSV UTF-8 or GB18030",
            rule="encoding",
        ) from None


def header_map(contract: Contract, headers: list[str], file: str) -> tuple[dict[str, str], list[str]]:
    """Map file headers (Chinese titles or field names) to field names; fail on missing required."""
    by_label = {f.title: f.name for f in contract.fields} | {f.name: f.name for f in contract.fields}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for h in headers:
        key = h.strip().lstrip("\ufeff")
        if key in by_label and by_label[key] not in mapping.values():
            mapping[h] = by_label[key]
        else:
            ignored.append(h)
    present = set(mapping.values())
    missing = [f for f in contract.fields if f.name not in present and f.required]
    if missing:
        wanted = ", ".join(f"{f.title} ({f.name})" for f in missing)
        raise InputError(f"required columns missing: {wanted}", file=file, row=1, rule="columns")
    return mapping, ignored


def _read_csv(path: Path, contract: Contract) -> RawBatch:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty", file=path.name, rule="empty")
    encoding = sniff_encoding(head)
    first_line = head.decode(encoding, errors="replace").splitlines()[0]
    headers = next(csv.reader(io.StringIO(first_line)))
    mapping, ignored = header_map(contract, headers, path.name)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in headers},
                strings_can_be_null=False,
                include_columns=list(mapping),
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"not a readable CSV: {exc}", file=path.name, rule="csv") from None
    return RawBatch(table.rename_columns([mapping[c] for c in table.column_names]), encoding, "csv", ignored)


def _read_parquet(path: Path, contract: Contract) -> RawBatch:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", file=path.name, rule="parquet") from None
    mapping, ignored = header_map(contract, table.column_names, path.name)
    table = table.select(list(mapping)).rename_columns(list(mapping.values()))
    strings = [pa.compute.cast(c, pa.string()) for c in table.columns]
    return RawBatch(pa.table(strings, names=table.column_names), None, "parquet", ignored)


def read_file(path: Path, contract: Contract) -> RawBatch:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"unsupported format {path.suffix!r}; send one of {', '.join(sorted(FORMATS))}",
            file=path.name,
            rule="format",
        )
    return _read_csv(path, contract) if kind == "csv" else _read_parquet(path, contract)
