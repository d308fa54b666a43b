"""Change feeds: the rows added, changed and removed between two versions of a dataset.

Computed from the two Iceberg snapshots themselves (time travel in DuckDB), not from a copy kept
for the purpose, so any two versions can be compared, for snapshot and append datasets alike.

Rows are matched by primary key. For a caller, a row is

- **added** when its key is in the newer version and not in the older one *as the caller sees
  them* (a row that moved into the grant's row filter is added; one that moved out is removed);
- **changed** when the stored value of a field the caller receives differs — masked fields
  included, so a correction of a masked name is reported though the masked value may look the
  same; fields the caller does not receive are not compared;
- **removed** when its key is gone. Removed rows carry their last values as the caller saw them.

Every row carries ``_op`` and ``_key`` (see :mod:`access.pseudonym`) and comes in ``_key`` order,
which says nothing about the keys' values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

import duckdb

from access import pseudonym
from access.policy import Column, Policy
from access.query import conditions
from contracts.model import Contract
from exchange.versions import At
from hub.settings import Settings
from warehouse import duck, tables
from warehouse.duck import quote

OP = "_op"
DIFF = "diff"


class Op(StrEnum):
    added = "added"
    changed = "changed"
    removed = "removed"


@dataclass(frozen=True)
class ChangeCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0

    def describe(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return self.added + self.changed + self.removed


def connect(settings: Settings, contract: Contract) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that reads Iceberg, bounded in memory and spilling under HUB_HOME."""
    spill = settings.resolved_home / "tmp" / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    geometry = any(f.type == "geometry" for f in contract.fields)
    return duck.connect(
        extensions=("avro", "iceberg", "spatial") if geometry else ("avro", "iceberg"),
        config={"memory_limit": settings.exchange_memory_limit, "temp_directory": str(spill), "threads": 2},
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Diff:
    """The difference between versions ``old`` and ``new`` of ``contract``'s dataset as ``policy``
    releases it (``None``: every field, every row), computed once into a temporary table of keys."""

    def __init__(
        self,
        settings: Settings,
        contract: Contract,
        old: At,
        new: At,
        policy: Policy | None = None,
        filters: dict[str, str] | None = None,
    ):
        self.contract, self.old, self.new, self.policy = contract, old, new, policy
        cat = tables.catalog(settings.warehouse_dir)
        location = _literal(tables.metadata_location(cat, contract).removeprefix("file://"))
        self.sources = {
            side: f"iceberg_scan({location}, snapshot_from_id={int(at.snapshot_id)})"
            for side, at in (("old", old), ("new", new))
        }
        clauses, self.values = conditions(policy, filters or {}) if policy else ([], [])
        if old.snapshot_id == new.snapshot_id:
            clauses = [*clauses, "FALSE"]  # the same version: nothing changed, nothing to scan
        self.where = " AND ".join(clauses or ["TRUE"])
        self.con = connect(settings, contract)
        try:
            self.present = {side: self._columns(src) for side, src in self.sources.items()}
            self._compute()
        except BaseException:
            self.con.close()
            raise

    def _columns(self, source: str) -> set[str]:
        return {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}

    @property
    def keys(self) -> list[str]:
        return self.contract.primary_key

    def _compute(self) -> None:
        names = self.policy.names if self.policy else [f.name for f in self.contract.fields]
        compared = [n for n in names if n in self.present["old"] and n in self.present["new"]]
        keys = ", ".join(quote(k) for k in self.keys)
        digest = f"sum(hash({', '.join(quote(n) for n in compared)})::HUGEINT)" if compared else "0"
        side = "SELECT {keys}, count(*) AS n, {digest} AS h FROM {src} AS src WHERE {where} GROUP BY ALL"
        o = side.format(keys=keys, digest=digest, src=self.sources["old"], where=self.where)
        n = side.format(keys=keys, digest=digest, src=self.sources["new"], where=self.where)
        op = f"CASE WHEN o.n IS NULL THEN '{Op.added}' WHEN n.n IS NULL THEN '{Op.removed}' ELSE '{Op.changed}' END"
        self.con.execute(
            f"CREATE TEMP TABLE {DIFF} AS WITH o AS ({o}), n AS ({n}) "
            f"SELECT {keys}, {op} AS {OP} FROM o FULL JOIN n USING ({keys}) "
            "WHERE o.n IS NULL OR n.n IS NULL OR o.h <> n.h OR o.n <> n.n",
            [*self.values, *self.values],
        )

    def counts(self) -> ChangeCounts:
        found = dict(self.con.execute(f"SELECT {OP}, count(*) FROM {DIFF} GROUP BY 1").fetchall())
        return ChangeCounts(**{op.value: int(found.get(op.value, 0)) for op in Op})

    def rows_sql(
        self, columns: Sequence[Column], holder_secret: str, *, after: str | None = None, limit: int | None = None
    ) -> tuple[str, list[object]]:
        """The changed rows: ``_op``, ``_key``, then ``columns`` as released, in ``_key`` order;
        keyset-paged with ``after`` (the last ``_key`` of the previous page) and ``limit``."""
        assert self.policy is not None, "rows are released under a policy"
        key = pseudonym.key_sql(self.policy, self.contract, holder_secret)
        on = " AND ".join(f"src.{quote(k)} = d.{quote(k)}" for k in self.keys)

        def branch(side: str, test: str) -> str:
            cols = [c.sql("src") if c.name in self.present[side] else f"NULL AS {quote(c.name)}" for c in columns]
            select = ", ".join([f"d.{OP}", key, *cols])
            return (
                f"SELECT {select} FROM {DIFF} AS d JOIN {self.sources[side]} AS src ON {on} "
                f"WHERE d.{OP} {test} AND {self.where}"
            )

        removed = f"'{Op.removed}'"
        union = f"{branch('new', '<> ' + removed)} UNION ALL {branch('old', '= ' + removed)}"
        values: list[object] = [*self.values, *self.values]
        sql = f"SELECT * FROM ({union}) AS changes"
        if after is not None:
            sql += f" WHERE {pseudonym.KEY} > ?"
            values.append(after)
        sql += f" ORDER BY {pseudonym.KEY}"
        if limit is not None:
            sql += " LIMIT ?"
            values.append(limit)
        return sql, values

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Diff:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def counts(settings: Settings, contract: Contract, old: At, new: At) -> ChangeCounts:
    """How many rows were added, changed and removed from ``old`` to ``new`` (every field compared)."""
    if old.snapshot_id == new.snapshot_id:
        return ChangeCounts()
    with Diff(settings, contract, old, new) as diff:
        return diff.counts()
