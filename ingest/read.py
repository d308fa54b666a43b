"""Read a department's file into an Arrow table of strings, whatever form it came in.

Departments send CSV in GB18030 or UTF-8 (often with a BOM), XLSX, GeoJSON and (Geo)Parquet.
Every column is read as text, and every geometry as WKB: turning text into types is
standardization's job, where a bad value becomes a row-level issue instead of a failed file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from contracts.model import Contract
from hub.errors import InputError

SNIFF_BYTES = 256 * 1024
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
}
LONLAT_CRS = ("EPSG::4490", "EPSG:4490")


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


@dataclass
class _CsvPlan:
    encoding: str
    mapping: dict[str, str]
    ignored: list[str]
    read: pacsv.ReadOptions
    parse: pacsv.ParseOptions
    convert: pacsv.ConvertOptions


def _csv_plan(path: Path, contract: Contract) -> _CsvPlan:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty", file=path.name, rule="empty")
    encoding = sniff_encoding(head)
    first_line = head.decode(encoding, errors="replace").splitlines()[0]
    headers = next(csv.reader(io.StringIO(first_line)))
    mapping, ignored = header_map(contract, headers, path.name)
    return _CsvPlan(
        encoding,
        mapping,
        ignored,
        pacsv.ReadOptions(encoding=encoding, block_size=8 << 20),
        pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=True),
        pacsv.ConvertOptions(
            column_types={h: pa.string() for h in headers}, strings_can_be_null=False, include_columns=list(mapping)
        ),
    )


def _read_csv(path: Path, contract: Contract) -> RawBatch:
    plan = _csv_plan(path, contract)
    try:
        table = pacsv.read_csv(path, read_options=plan.read, parse_options=plan.parse, convert_options=plan.convert)
    except pa.ArrowInvalid as exc:
        raise InputError(f"not a readable CSV: {exc}", file=path.name, rule="csv") from None
    return RawBatch(
        table.rename_columns([plan.mapping[c] for c in table.column_names]), plan.encoding, "csv", plan.ignored
    )


def _csv_batches(path: Path, contract: Contract, rows: int) -> Iterator[RawBatch]:
    """Stream a CSV: Arrow decodes blocks of a few MB; batches of about ``rows`` records come out."""
    plan = _csv_plan(path, contract)
    try:
        reader = pacsv.open_csv(path, read_options=plan.read, parse_options=plan.parse, convert_options=plan.convert)
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield _csv_batch(pending, plan)
                pending, count = [], 0
        if pending or count == 0:
            yield _csv_batch(pending, plan, reader.schema)
    except pa.ArrowInvalid as exc:
        raise InputError(f"not a readable CSV: {exc}", file=path.name, rule="csv") from None


def _csv_batch(batches: list[pa.RecordBatch], plan: _CsvPlan, schema: pa.Schema | None = None) -> RawBatch:
    table = pa.Table.from_batches(batches, schema=schema) if schema is not None else pa.Table.from_batches(batches)
    return RawBatch(
        table.rename_columns([plan.mapping[c] for c in table.column_names]), plan.encoding, "csv", plan.ignored
    )


def _as_text_or_wkb(name: str, kind: str) -> str:
    col = '"' + name.replace('"', '""') + '"'
    return f"ST_AsWKB({col}) AS {col}" if kind.startswith("GEOMETRY") else f"CAST({col} AS VARCHAR) AS {col}"


def _duckdb_strings(rel_sql: str, params: list[object], contract: Contract, file: str, fmt: str) -> RawBatch:
    """Run a DuckDB read, geometry columns to WKB, everything else to text, then map headers."""
    from warehouse import duck

    con = duck.connect(extensions=("spatial", "excel"))
    try:
        cols = con.execute(f"DESCRIBE SELECT * FROM {rel_sql}", params).fetchall()
        exprs = [
            f'ST_AsWKB("{c[0]}") AS "{c[0]}"'
            if c[1].startswith("GEOMETRY")
            else f'CAST("{c[0]}" AS VARCHAR) AS "{c[0]}"'
            for c in cols
        ]
        table = con.execute(f"SELECT {', '.join(exprs)} FROM {rel_sql}", params).to_arrow_table()
    except Exception as exc:  # duckdb raises many kinds for a broken file
        raise InputError(f"not a readable {fmt} file: {exc}", file=file, rule=fmt) from None
    finally:
        con.close()
    mapping, ignored = header_map(contract, table.column_names, file)
    table = table.select(list(mapping)).rename_columns(list(mapping.values()))
    return RawBatch(table, None, fmt, ignored)


def _read_parquet(path: Path, contract: Contract) -> RawBatch:
    return _duckdb_strings("read_parquet(?)", [str(path)], contract, path.name, "parquet")


def _read_xlsx(path: Path, contract: Contract) -> RawBatch:
    return _duckdb_strings("read_xlsx(?, all_varchar = true, header = true)", [str(path)], contract, path.name, "xlsx")


def _crs_name(doc: dict[str, object]) -> str | None:
    crs = doc.get("crs")
    if isinstance(crs, dict):
        props = crs.get("properties")
        if isinstance(props, dict):
            return str(props.get("name"))
    return None


def _read_geojson(path: Path, contract: Contract) -> RawBatch:
    """A FeatureCollection: properties become columns, the geometry the contract's geometry field."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid GeoJSON: {exc}", file=path.name, rule="geojson") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("GeoJSON must be a FeatureCollection", file=path.name, rule="geojson")
    crs = _crs_name(doc)
    if crs is not None and not crs.upper().endswith(LONLAT_CRS):
        raise InputError(f"coordinates must be CGCS2000 (EPSG:4490), file says {crs}", file=path.name, rule="crs")
    geo_fields = [f for f in contract.fields if f.type == "geometry"]
    if not geo_fields:
        raise InputError(
            f"dataset {contract.id} has no geometry field; send CSV or XLSX", file=path.name, rule="format"
        )
    features = doc.get("features") or []
    headers: list[str] = []
    for feature in features:
        for key in feature.get("properties") or {}:
            if key not in headers:
                headers.append(key)
    mapping, ignored = header_map(contract, headers + [geo_fields[0].title], path.name)
    columns: dict[str, list[str | None]] = {name: [] for h, name in mapping.items() if name != geo_fields[0].name}
    shapes: list[str | None] = []
    for feature in features:
        props = feature.get("properties") or {}
        for header, name in mapping.items():
            if name in columns:
                value = props.get(header)
                columns[name].append(None if value is None else str(value))
        geometry = feature.get("geometry")
        shapes.append(json.dumps(geometry) if geometry else None)
    table = pa.table({**columns, geo_fields[0].name: _geojson_to_wkb(shapes)})
    return RawBatch(table, "utf-8", "geojson", ignored)


def _geojson_to_wkb(shapes: list[str | None]) -> pa.Array:
    from warehouse import duck

    con = duck.connect(extensions=("spatial",))
    try:
        con.register("shapes", pa.table({"g": pa.array(shapes, pa.string())}))
        sql = "SELECT ST_AsWKB(TRY(ST_GeomFromGeoJSON(g))) AS w FROM shapes"
        return con.execute(sql).to_arrow_table().column("w").combine_chunks().cast(pa.binary())
    finally:
        con.close()


READERS = {"csv": _read_csv, "parquet": _read_parquet, "xlsx": _read_xlsx, "geojson": _read_geojson}


def iter_batches(path: Path, contract: Contract, rows: int = 200_000) -> Iterator[RawBatch]:
    """The file's records in batches of about ``rows``: CSV is streamed and never held whole;
    XLSX, GeoJSON and Parquet are read by DuckDB and sliced."""
    if FORMATS.get(path.suffix.lower()) == "csv":
        yield from _csv_batches(path, contract, rows)
        return
    whole = read_file(path, contract)
    for start in range(0, max(whole.table.num_rows, 1), rows):
        yield RawBatch(whole.table.slice(start, rows), whole.encoding, whole.format, whole.ignored_columns)


def read_file(path: Path, contract: Contract) -> RawBatch:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            f"unsupported format {path.suffix!r}; send one of {', '.join(sorted(FORMATS))}",
            file=path.name,
            rule="format",
        )
    return READERS[kind](path, contract)
