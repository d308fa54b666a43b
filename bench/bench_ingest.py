"""Benchmark: ingesting a GB18030 residents export end to end, against the floor DuckDB sets.

The floor is the least any ingest of the file must do: decode GB18030, and one DuckDB scan that
reads the CSV, runs the main checks (required values, GB 11643 check digit and birth date, code
tables, dates not after the export date, ID number agreeing with sex and birth date) and writes
the accepted rows as Parquet. The hub's ingest (discover, check with Great Expectations, publish to
Iceberg, register: catalogue version and serving copy) runs in a child process of its own, so its
start-up (importing GX, pyiceberg, DuckDB) is reported apart and its peak RSS is its own
(read from ``/proc``, stage by stage). Files larger than 1M rows are the generated 1M-row file written several
times with other ID numbers (valid check digits), until the generator streams.

    .venv/bin/python -m bench.bench_ingest [--rows 1000000] [--scale]
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

DATASET = "population.residents"
TODAY = dt.date(2026, 11, 1)
GENERATED_MAX = 1_000_000
"""Rows generated at most; bigger files repeat them with other ID numbers."""
SCALE_ROWS = 10_000_000
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
STAGES = ("discover", "check", "publish", "register")


@dataclass(frozen=True)
class Ingest:
    startup: float
    seconds: dict[str, float]
    check_parts: dict[str, float]
    peaks: dict[str, float]
    """Peak RSS (MB) of each stage, start-up included."""
    peak_rss_mb: float

    @property
    def total(self) -> float:
        return sum(self.seconds[s] for s in STAGES)


# --- input ----------------------------------------------------------------------------------


def _digits(ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The IDs as an (n, 18) array of ASCII codes, and which of them are plain and valid
    (18 characters, check digit right); others (full-width, spaced, faulty) are left alone."""
    text = ids.to_numpy(zero_copy_only=False)
    plain = np.array([isinstance(v, str) and len(v) == 18 and v[:17].isdigit() for v in text])
    raw = np.array([v.encode() if ok else b"0" * 18 for v, ok in zip(text, plain, strict=True)], dtype="S18")
    digits = raw.view(np.uint8).reshape(-1, 18).copy()
    valid = plain & (CHECK[((digits[:, :17].astype(np.int64) - 48) @ WEIGHTS) % 11] == digits[:, 17])
    return digits, valid


def _renumbered(ids: pa.Array, copy: int, copies: int) -> pa.Array:
    """The ID numbers of copy ``copy``: each valid ID's address code moved ``copy`` steps along the
    file's own (valid) address codes, the check digit recomputed. A rotation is one-to-one, and
    the file's people crowd into few codes, so copies rarely share an ID; invalid IDs stay as they
    are, so the faults repeat."""
    digits, valid = _digits(ids)
    heads = digits[:, :6].copy().view("S6").reshape(-1)
    pool = np.unique(heads[valid])
    step = max(1, len(pool) // copies)
    moved = pool[(np.searchsorted(pool, heads) + copy * step) % len(pool)]
    digits[:, :6] = np.frombuffer(moved.tobytes(), dtype=np.uint8).reshape(-1, 6)
    digits[:, 17] = CHECK[((digits[:, :17].astype(np.int64) - 48) @ WEIGHTS) % 11]
    new = digits.reshape(-1).view("S18").astype(str)
    return pa.array(np.where(valid, new, ids.to_numpy(zero_copy_only=False)), pa.string())


def make_input(folder: Path, rows: int) -> Path:
    """A residents export of ``rows`` rows (GB18030, 3 % faulty rows) in ``folder``."""
    from generator.residents import generate

    base = folder / "generated.csv"
    generate(base, rows=min(rows, GENERATED_MAX), bad_share=0.03, seed=99)
    if rows <= GENERATED_MAX:
        return base
    with base.open("rb") as fh:  # every column as text: codes keep their leading zeros
        header = fh.readline().decode("gb18030").strip().split(",")
    table = pacsv.read_csv(
        base,
        read_options=pacsv.ReadOptions(encoding="gb18030"),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False, column_types=dict.fromkeys(header, pa.string())
        ),
    )
    ids = table.column(0).combine_chunks()
    out = folder / "export.csv"
    copies = -(-rows // GENERATED_MAX)
    with out.open("wb") as fh:
        for k in range(copies):
            part = table if k == 0 else table.set_column(0, table.field(0), _renumbered(ids, k, copies))
            part = part.slice(0, rows - k * GENERATED_MAX)
            sink = pa.BufferOutputStream()
            pacsv.write_csv(part, sink, pacsv.WriteOptions(include_header=k == 0, quoting_style="none"))
            fh.write(codecs.encode(sink.getvalue().to_pybytes().decode("utf-8"), "gb18030"))
    base.unlink()
    return out


# --- floor ----------------------------------------------------------------------------------


def _floor_sql(csv: Path, parquet: Path) -> str:
    from standards import tables

    def codes(name: str) -> str:
        return ", ".join(f"'{c}'" for c in sorted(tables.codes(name)))

    id_ = '"公民身份号码"'
    digits = " + ".join(f"CAST(substr({id_}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    checks = [
        f"{id_} IS NOT NULL AND regexp_full_match({id_}, '[0-9]{{17}}[0-9X]')",
        f"substr('10X98765432', (({digits}) % 11) + 1, 1) = substr({id_}, 18, 1)",
        f"TRY_STRPTIME(substr({id_}, 7, 8), '%Y%m%d')::DATE = TRY_CAST(\"出生日期\" AS DATE)",
        f"TRY_CAST(\"出生日期\" AS DATE) <= DATE '{TODAY.isoformat()}'",
        f"CAST(substr({id_}, 17, 1) AS INTEGER) % 2 = CASE \"性别\" WHEN '1' THEN 1 WHEN '2' THEN 0 END",
        '"姓名" IS NOT NULL',
        f'"民族" IN ({codes("gbt3304_ethnicity")})',
        f'"街道代码" IN ({codes("dongcheng_streets")})',
        f'"社区代码" IN ({codes("dongcheng_communities")})',
        'TRY_CAST("登记日期" AS DATE) IS NOT NULL',
    ]
    ok = " AND ".join(f"coalesce({c}, false)" for c in checks)
    source = f"read_csv('{csv}', all_varchar = true, header = true)"
    return f"COPY (SELECT * FROM {source} WHERE {ok}) TO '{parquet}' (FORMAT parquet)"


def floor(export: Path, folder: Path) -> tuple[float, float]:
    """Seconds to decode the export to UTF-8 and seconds of the one DuckDB scan (check + Parquet)."""
    from warehouse import duck

    utf8 = folder / "floor-utf8.csv"
    start = time.perf_counter()
    decoder = codecs.getincrementaldecoder("gb18030")()
    with export.open("rb") as src, utf8.open("wb") as dst:
        for block in iter(lambda: src.read(16 << 20), b""):
            dst.write(decoder.decode(block).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    decode = time.perf_counter() - start
    con = duck.connect(extensions=(), config={"threads": os.cpu_count() or 1})
    con.execute("SET enable_progress_bar = false")  # as a config key it fails once another connection exists
    start = time.perf_counter()
    con.execute(_floor_sql(utf8, folder / "floor.parquet"))
    scan = time.perf_counter() - start
    con.close()
    utf8.unlink()
    return decode, scan


# --- the ingest, in a child process --------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak RSS since the last call (Linux: VmHWM, then reset through clear_refs)."""
    status = Path("/proc/self/status").read_text()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
    Path("/proc/self/clear_refs").write_text("5")
    return peak


def child(export: Path, home: Path) -> None:
    """Ingest ``export`` into a fresh HUB_HOME ``home``; print the times as one JSON line."""
    started = time.perf_counter()
    from catalog import db
    from contracts import model
    from hub.settings import Settings
    from ingest import steps
    from ingest.validate import _batch_definition

    _batch_definition()  # GX's context: start-up, as for an Airflow worker
    settings = Settings(home=home)
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    contract = model.find(settings.contracts_dir, DATASET)
    inbox = steps.inbox_folder(settings, contract)
    inbox.mkdir(parents=True, exist_ok=True)
    os.link(export, inbox / export.name)
    startup = time.perf_counter() - started
    seconds = {}
    peaks = {"startup": _peak_mb()}
    clock = time.perf_counter()
    files = steps.discover(DATASET, settings)
    seconds["discover"] = time.perf_counter() - clock
    peaks["discover"] = _peak_mb()
    clock = time.perf_counter()
    outcome = steps.check(DATASET, files[0], settings, today=TODAY)
    seconds["check"] = time.perf_counter() - clock
    peaks["check"] = _peak_mb()
    clock = time.perf_counter()
    published = steps.publish(DATASET, settings)
    seconds["publish"] = time.perf_counter() - clock
    peaks["publish"] = _peak_mb()
    clock = time.perf_counter()
    steps.register(DATASET, published, settings)
    seconds["register"] = time.perf_counter() - clock
    peaks["register"] = _peak_mb()
    report = {
        "startup": startup,
        "seconds": seconds,
        "peaks": peaks,
        "check_parts": outcome.seconds,
        "accepted": outcome.rows_accepted,
        "rejected": outcome.rows_rejected,
    }
    print(json.dumps(report))


def ingest(export: Path, home: Path) -> Ingest:
    """Run :func:`child` in a fresh interpreter. Its peak RSS is the largest of its stages' peaks,
    read from ``/proc/self/status`` (``VmHWM``, reset after each stage); ``RUSAGE_CHILDREN``
    cannot be used with those resets, which lower the high-water mark it reports."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_ingest", "--child", str(export), str(home)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"the ingest failed:\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = max(report["peaks"].values())
    return Ingest(report["startup"], report["seconds"], report["check_parts"], report["peaks"], peak)


def run(rows: int, repeat: int = 1) -> str:
    """The markdown section: floor, each stage, end to end, ratio, peak RSS (best of ``repeat``)."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        export = make_input(root, rows)
        made = time.perf_counter() - start
        runs = []
        for n in range(repeat):
            runs.append(ingest(export, root / f"hub{n}"))
            shutil.rmtree(root / f"hub{n}", ignore_errors=True)
        best = min(runs, key=lambda r: r.total)
        floors = [floor(export, root) for _ in range(max(repeat, 2))]
        decode, scan = min(floors, key=sum)
        size = export.stat().st_size / 1e6
    base = decode + scan
    lines = [
        f"Rows: {rows:,} residents (GB18030 CSV, {size:.0f} MB, 3 % faulty rows; input made in {made:.0f} s); "
        f"best of {repeat} ingest(s), floor best of {max(repeat, 2)}, {os.cpu_count()} cores.",
        "",
        "| step | seconds | × floor | peak RSS MB |",
        "|---|---:|---:|---:|",
        f"| floor: decode GB18030 → UTF-8 | {decode:.2f} | | |",
        f"| floor: one DuckDB scan (main checks, Parquet of accepted rows) | {scan:.2f} | | |",
        f"| **floor** | **{base:.2f}** | 1.0 | |",
        f"| process start-up (imports, GX context; once per worker) | {best.startup:.2f} | | "
        f"{best.peaks['startup']:,.0f} |",
    ]
    for stage in STAGES:
        ratio = best.seconds[stage] / base
        lines.append(f"| {stage} | {best.seconds[stage]:.2f} | {ratio:.2f} | {best.peaks[stage]:,.0f} |")
    parts = ", ".join(f"{k} {v:.1f}" for k, v in best.check_parts.items())
    lines += [
        f"| **end to end** (discover + check + publish + register) | **{best.total:.2f}** | "
        f"**{best.total / base:.2f}** | **{best.peak_rss_mb:,.0f}** |",
        "",
        f"Check, by part (s): {parts}.",
        f"Peak RSS of the ingest process: {best.peak_rss_mb:,.0f} MB.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", "1000000")))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scale", action="store_true", help=f"ingest {SCALE_ROWS:,} rows (time and peak RSS)")
    parser.add_argument("--child", nargs=2, metavar=("EXPORT", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    print(run(SCALE_ROWS if args.scale else args.rows, args.repeat))


if __name__ == "__main__":
    main()
