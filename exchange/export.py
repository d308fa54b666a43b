"""Streaming writers for exports and change feeds: Parquet, CSV, JSON Lines, Arrow IPC.

Each writer reads Arrow record batches from DuckDB's streaming result and yields the bytes of
each batch as soon as they are written, so memory stays flat whatever the size of the result and
no temporary file of the whole result is made.

CSV is meant for people who open it in a spreadsheet: UTF-8 with a byte-order mark by default
(``gb18030`` on request, what Excel in a Chinese-locale office reads without an import dialog), and
text values that a spreadsheet would run as a formula (starting ``= + - @``, a tab or a carriage
return) are prefixed with an apostrophe (the OWASP "CSV injection" advice). JSON Lines embeds
geometries as GeoJSON objects; Parquet and Arrow keep them as GeoJSON text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hub.errors import InputError


class Format(StrEnum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"
    arrow = "arrow"


class Encoding(StrEnum):
    utf8 = "utf-8"
    gb18030 = "gb18030"


MEDIA_TYPES = {
    Format.parquet: "application/vnd.apache.parquet",
    Format.csv: "text/csv",
    Format.jsonl: "application/x-ndjson",
    Format.arrow: "application/vnd.apache.arrow.stream",
}
SUFFIXES = {Format.parquet: "parquet", Format.csv: "csv", Format.jsonl: "jsonl", Format.arrow: "arrows"}
BOM = "\ufeff".encode()
FORMULA = r"^[=+\-@\t\r]"
JSON_SLICE = 2048


def media_type(fmt: Format, encoding: Encoding = Encoding.utf8) -> str:
    if fmt is Format.csv:
        return f"text/csv; charset={encoding.value}"
    return MEDIA_TYPES[fmt]


def parse_format(value: str | None, default: Format = Format.parquet) -> Format:
    if value is None or value == "":
        return default
    try:
        return Format(value.lower())
    except ValueError:
        raise InputError(
            f"format must be one of {', '.join(f.value for f in Format)}, not {value!r}", column="format", rule="format"
        ) from None


def parse_encoding(value: str | None) -> Encoding:
    if value is None or value.lower() in ("", "utf-8", "utf8", "utf-8-sig"):
        return Encoding.utf8
    if value.lower() in ("gb18030", "gbk", "gb2312"):
        return Encoding.gb18030  # GB18030 is a superset of GBK and GB2312: every value encodes
    raise InputError(f"encoding must be utf-8 or gb18030, not {value!r}", column="encoding", rule="encoding")


class _Sink:
    """A write-only file for pyarrow writers whose bytes are collected until drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def neutralize(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Text values a spreadsheet would evaluate, prefixed with ``'``."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, FORMULA), False)
            if pc.any(risky).as_py():
                column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def _csv(batches: Iterable[pa.RecordBatch], schema: pa.Schema, encoding: Encoding) -> Iterator[bytes]:
    sink = _Sink()
    writer = pacsv.CSVWriter(sink, schema)  # type: ignore[arg-type]
    encode = (lambda b: b) if encoding is Encoding.utf8 else (lambda b: b.decode("utf-8").encode("gb18030"))
    yield (BOM if encoding is Encoding.utf8 else b"") + encode(sink.drain())  # the header
    for batch in batches:
        writer.write_batch(neutralize(batch))
        yield encode(sink.drain())
    writer.close()
    if rest := sink.drain():
        yield encode(rest)


def _jsonl(batches: Iterable[pa.RecordBatch], schema: pa.Schema, geometry: Sequence[str]) -> Iterator[bytes]:
    shapes = [name for name in geometry if name in schema.names]
    for batch in batches:
        for offset in range(0, batch.num_rows, JSON_SLICE):  # few Python objects alive at a time
            lines = []
            for row in batch.slice(offset, JSON_SLICE).to_pylist():
                for name in shapes:
                    if row[name] is not None:
                        row[name] = orjson.Fragment(row[name])
                lines.append(orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS))
            if lines:
                yield b"\n".join(lines) + b"\n"


def _parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")  # type: ignore[arg-type]
    for batch in batches:
        writer.write_batch(batch)
        yield sink.drain()
    writer.close()
    yield sink.drain()


def _arrow(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    sink = _Sink()
    writer = pa.ipc.new_stream(sink, schema)  # type: ignore[arg-type]
    yield sink.drain()
    for batch in batches:
        writer.write_batch(batch)
        yield sink.drain()
    writer.close()
    yield sink.drain()


def stream(
    reader: pa.RecordBatchReader,
    fmt: Format,
    *,
    encoding: Encoding = Encoding.utf8,
    geometry: Sequence[str] = (),
) -> Iterator[bytes]:
    """The bytes of ``reader``'s rows in ``fmt``, one chunk per batch (empty chunks skipped)."""
    schema = reader.schema
    batches = _batches(reader)
    if fmt is Format.csv:
        chunks = _csv(batches, schema, encoding)
    elif fmt is Format.jsonl:
        chunks = _jsonl(batches, schema, geometry)
    elif fmt is Format.parquet:
        chunks = _parquet(batches, schema)
    else:
        chunks = _arrow(batches, schema)
    return (chunk for chunk in chunks if chunk)


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
