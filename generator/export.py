"""Writing a department export the way departments send it: CSV in their encoding, XLSX, GeoJSON,
(Geo)Parquet, always under the contract's column titles and in the contract's field order.

Records are dicts keyed by contract field name. Values are ``str``, ``int``, ``float``,
``datetime.date``, ``None`` (an empty cell) or, for the geometry field, a GeoJSON geometry dict.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contracts import model
from hub.errors import BadParameter
from hub.settings import get_settings


class NotSendable(BadParameter, ValueError):
    """A file a department cannot send that way: a format, encoding or size its dataset does not allow."""


ENCODINGS = ("gb18030", "utf-8-sig", "utf-8")
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson", ".parquet": "parquet"}
XLSX_MAX_ROWS = 1_048_575
"""Excel's sheet limit (1,048,576 rows) less the header."""
CRS_URN = "urn:ogc:def:crs:EPSG::4490"
"""CGCS2000 as GDAL names it in a GeoJSON ``crs`` member."""

Record = dict[str, Any]


@dataclass
class Manifest:
    """What was generated: the truth a test checks the pipeline against."""

    path: Path
    rows: int
    encoding: str | None
    """Text encoding of CSV and GeoJSON files; None for XLSX and Parquet."""
    good_rows: int
    bad_rows: dict[int, str] = field(default_factory=dict)
    """Spreadsheet row number (header = 1) → fault kind; for GeoJSON the feature index + 2."""
    format: str = "csv"
    extras: dict[str, Any] = field(default_factory=dict)
    """Dataset-specific truth beyond faults (e.g. unregistered taxpayers, indicator jumps)."""


def file_format(out: Path, default: str) -> str:
    """The format a file name asks for (``x.csv.tmp`` counts as CSV); ``default`` when it names none."""
    for suffix in reversed(out.suffixes):
        if suffix.lower() in FORMATS:
            return FORMATS[suffix.lower()]
    return default


@contextmanager
def atomic(out: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``out``; move it onto ``out`` only when writing succeeded."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _contract(dataset: str) -> model.Contract:
    return model.find(get_settings().active_contracts_dir, dataset)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(out: Path, dataset: str, records: Sequence[Record], encoding: str) -> None:
    """Write records under the contract's Chinese column titles, in the contract's field order."""
    if encoding not in ENCODINGS:
        raise NotSendable(f"encoding must be one of {', '.join(ENCODINGS)}")
    fields = _contract(dataset).fields
    if any(f.type == "geometry" for f in fields):
        raise NotSendable(f"{dataset} has a geometry field: send it as GeoJSON or GeoParquet, not CSV")
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f.title for f in fields])
    writer.writerows([[_text(r.get(f.name)) for f in fields] for r in records])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue().encode(encoding))


Progress = Callable[[int], None]
"""Told after each batch how many of the requested records (people, for the population's exports) are made."""
_CSV_SPECIAL = (",", '"', "\r", "\n")


class CsvStream:
    """A CSV export written batch by batch: Chinese column titles, the contract's field order, CRLF lines.

    Each batch comes as columns of text already encoded in the file's encoding (Arrow binary
    arrays, see :class:`generator.population.Text`); a batch becomes lines with Arrow's string
    kernels and its bytes are appended to the file, so memory holds one batch whatever the file's
    size. Quoting follows :func:`write_csv` (``csv`` module, minimal quoting): a value holding a
    comma, a quote or a line break is quoted. In GB18030 and UTF-8 those four bytes never occur
    inside a multi-byte character, so counting them in a batch's encoded lines tells whether any
    value needs quoting (one pass over the bytes); only then are the values searched one by one.
    """

    def __init__(self, out: Path, dataset: str, encoding: str):
        if encoding not in ENCODINGS:
            raise NotSendable(f"encoding must be one of {', '.join(ENCODINGS)}")
        self.fields = _contract(dataset).fields
        if any(f.type == "geometry" for f in self.fields):
            raise NotSendable(f"{dataset} has a geometry field: send it as GeoJSON or GeoParquet, not CSV")
        self.encoding = encoding
        self.rows = 0
        self.batches: list[int] = []
        """Rows of each batch written, in order."""
        out.parent.mkdir(parents=True, exist_ok=True)
        self.file: BinaryIO = out.open("wb")
        header = io.StringIO(newline="")
        csv.writer(header, lineterminator="\r\n").writerow([f.title for f in self.fields])
        self.file.write(header.getvalue().encode(encoding))

    def write(self, columns: Mapping[str, pa.Array]) -> None:
        """Append one batch; a field the batch lacks is written empty."""
        n = len(next(iter(columns.values())))
        empty = pa.repeat(pa.scalar(b"", pa.binary()), n)
        blank = pa.scalar(b"", pa.binary())
        cells = [pc.fill_null(columns.get(f.name, empty).cast(pa.binary()), blank) for f in self.fields]
        text = _lines(cells)
        # the joins put exactly k - 1 commas and one CRLF on each line: any more, or a quote, is in a value
        separators = len(text) - len(text.translate(None, b",\r\n"))
        plain = separators == n * (len(cells) + 1) and b'"' not in text
        if not plain:
            text = _lines([_csv_cell(c) for c in cells])  # some value needs quoting: quote those values
        self.file.write(text)
        self.rows += n
        self.batches.append(n)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _lines(cells: list[pa.Array]) -> bytes:
    """The cells joined by commas, each line ended by CRLF, as one bytes object (the Arrow buffer's bytes)."""
    lines = pc.binary_join_element_wise(*cells, b",")
    lines = pc.binary_join_element_wise(lines, pa.scalar(b"\r\n", pa.binary()), b"")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    data = lines.buffers()[2]
    if data is None:
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])].tobytes()


def _csv_cell(values: pa.Array) -> pa.Array:
    """Encoded values as CSV cells: null as empty, quoted (quotes doubled) when they hold , " CR or LF."""
    values = pc.fill_null(values.cast(pa.binary()), pa.scalar(b"", pa.binary()))
    special = None
    for char in _CSV_SPECIAL:
        found = pc.match_substring(values, char)
        special = found if special is None else pc.or_(special, found)
    if special is None or not pc.any(special).as_py():
        return values
    quoted = pc.binary_join_element_wise(
        pa.scalar(b'"', pa.binary()), pc.replace_substring(values, '"', '""'), pa.scalar(b'"', pa.binary()), b""
    )
    return pc.if_else(special, quoted, values)


ARROW_TYPES = {"number": pa.float64(), "integer": pa.int64(), "date": pa.date32(), "boolean": pa.bool_()}


def _column(values: list[Any], logical: str) -> pa.Array:
    """Typed as the contract says; as text when a (faulty) value does not fit the type."""
    wanted = ARROW_TYPES.get(logical, pa.string())
    try:
        return pa.array(values, type=wanted)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else _text(v) for v in values], type=pa.string())


def arrow_table(dataset: str, records: Sequence[Record], *, titles: bool, text_dates: bool = False) -> pa.Table:
    """Records as an Arrow table; geometry fields become WKT text (turned into geometry by DuckDB)."""
    columns, names = [], []
    for f in _contract(dataset).fields:
        values = [r.get(f.name) for r in records]
        if f.type == "geometry":
            columns.append(pa.array([None if v is None else wkt(v) for v in values], type=pa.string()))
        else:
            columns.append(_column(values, "string" if text_dates and f.type == "date" else f.type))
        names.append(f.title if titles else f.name)
    return pa.table(columns, names=names)


def wkt(geometry: dict[str, Any]) -> str:
    """WKT of a GeoJSON Point or Polygon."""

    def pair(p: Sequence[float]) -> str:
        return f"{p[0]} {p[1]}"

    if geometry["type"] == "Point":
        return f"POINT ({pair(geometry['coordinates'])})"
    if geometry["type"] == "Polygon":
        rings = ", ".join("(" + ", ".join(pair(p) for p in ring) + ")" for ring in geometry["coordinates"])
        return f"POLYGON ({rings})"
    raise ValueError(f"unsupported geometry type {geometry['type']!r}")


def _copy(table: pa.Table, out: Path, options: str, geometry: list[str]) -> None:
    from warehouse import duck

    con = duck.connect(extensions=("spatial", "excel"))
    try:
        con.register("records", table)
        columns = ", ".join(
            f"ST_GeomFromText({_quote(c)})::GEOMETRY('EPSG:4490') AS {_quote(c)}" if c in geometry else _quote(c)
            for c in table.column_names
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        target = str(out).replace("'", "''")
        con.execute(f"COPY (SELECT {columns} FROM records) TO '{target}' ({options})")
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_xlsx(out: Path, dataset: str, records: Sequence[Record], sheet: str | None = None) -> None:
    """An Excel workbook: Chinese headers, numbers as number cells, dates as ISO text (as the registration and
    tax systems export them), empty cells for None."""
    if len(records) > XLSX_MAX_ROWS:
        raise NotSendable(f"{len(records)} rows do not fit one Excel sheet ({XLSX_MAX_ROWS} at most)")
    if any(f.type == "geometry" for f in _contract(dataset).fields):
        raise NotSendable(f"{dataset} has a geometry field: send it as GeoJSON or GeoParquet, not XLSX")
    options = "FORMAT xlsx, HEADER true" + (f", SHEET '{sheet}'" if sheet else "")
    _copy(arrow_table(dataset, records, titles=True, text_dates=True), out, options, [])


def write_parquet(out: Path, dataset: str, records: Sequence[Record]) -> None:
    """Parquet with field names as columns; a geometry field makes it GeoParquet (``geo`` metadata, EPSG:4490)."""
    geometry = [f.name for f in _contract(dataset).fields if f.type == "geometry"]
    _copy(arrow_table(dataset, records, titles=False), out, "FORMAT parquet, COMPRESSION zstd", geometry)


def write_geojson(out: Path, dataset: str, records: Sequence[Record]) -> None:
    """A GeoJSON FeatureCollection as GDAL writes one: ``name``, a CGCS2000 ``crs`` member, one feature a line.

    The contract's geometry field is the feature geometry; every other field is a property under its title.
    """
    contract = _contract(dataset)
    [geometry] = [f.name for f in contract.fields if f.type == "geometry"]
    props = [f for f in contract.fields if f.type != "geometry"]
    head = {"type": "FeatureCollection", "name": dataset.split(".")[-1], "crs": _crs()}
    features = [
        {
            "type": "Feature",
            "properties": {f.title: _json_value(r.get(f.name)) for f in props},
            "geometry": r.get(geometry),
        }
        for r in records
    ]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',\n"features": [\n'
    text += ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    text += "\n]\n}\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode("utf-8"))


def _crs() -> dict[str, Any]:
    return {"type": "name", "properties": {"name": CRS_URN}}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def write(out: Path, dataset: str, records: Sequence[Record], *, fmt: str, encoding: str = "utf-8") -> str | None:
    """Write in ``fmt`` (csv, xlsx, geojson, parquet); returns the text encoding (None for binary formats)."""
    if fmt == "csv":
        write_csv(out, dataset, records, encoding)
        return encoding
    if fmt == "xlsx":
        write_xlsx(out, dataset, records)
        return None
    if fmt == "geojson":
        write_geojson(out, dataset, records)
        return "utf-8"
    if fmt == "parquet":
        write_parquet(out, dataset, records)
        return None
    raise NotSendable(f"unknown format {fmt!r}; one of csv, xlsx, geojson, parquet")
