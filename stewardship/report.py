"""How ``hub contracts diff`` shows a verdict: a table, or one JSON document; and its exit codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hub.errors import BadParameter
from stewardship.diff import Impact, Side, Verdict, read, read_file, show
from stewardship.notices import Consumer

EXIT_CODES: dict[Impact | None, int] = {Impact.breaking: 3, Impact.policy: 4}
"""Exit code by verdict: 3 breaking, 4 policy-relevant, 0 compatible or no change (1 is an error)."""
HEADER = ("kind", "field", "before → after", "impact")


def side(ref: str) -> Side:
    """A contract named on the command line: a YAML file, or ``DATASET@VERSION``, a version the
    hub's contract registry keeps (any status: proposed, active, deprecated, ...)."""
    path = Path(ref)
    if path.is_file():
        return read_file(path)
    dataset, at, number = ref.partition("@")
    if not at or not dataset or not number:
        raise BadParameter(f"no contract file {ref!r}, and not DATASET@VERSION (e.g. population.residents@1.0.0)")
    from catalog import db
    from hub.settings import get_settings
    from stewardship import registry

    settings = get_settings()
    with db.session(settings.db_url) as s:
        registry.open_registry(s, settings)
        kept = registry.version(s, dataset, number)
        return read(kept.text, ref)


def table(verdict: Verdict) -> list[str]:
    rows = [
        (c.kind.value, c.field or "(dataset)", f"{show(c.before)} → {show(c.after)}", c.impact.value)
        for c in verdict.changes
    ]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(HEADER)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [HEADER, *rows]]


def lines(verdict: Verdict, consumers: Sequence[Consumer] | None = None) -> list[str]:
    out = table(verdict)
    what = verdict.impact.value if verdict.impact else "no change"
    out.append(f"verdict: {what}; {len(verdict.changes)} change(s) in {verdict.dataset}")
    ok = "yes" if verdict.version_ok else f"no: at least {verdict.least_version}"
    out.append(f"version: {verdict.old_version} → {verdict.new_version}; needs a {verdict.bump.value} bump ({ok})")
    if verdict.breaking:
        out.append("a breaking change needs a major version and a steward's approval with a migration date")
    if consumers is not None:
        out.append(f"consumers reached: {len(consumers)}")
        for c in consumers:
            reads = "every field" if c.fields is None else ", ".join(c.fields)
            out.append(f"  {c.client} ({', '.join(c.reads_through)}; reads {reads}): {len(c.changes)} change(s)")
    return out


def as_json(verdict: Verdict, consumers: Sequence[Consumer] | None = None) -> list[str]:
    doc = verdict.model_dump(mode="json", exclude={"migration_date"}) | {
        "version_ok": verdict.version_ok,
        "least_version": verdict.least_version,
    }
    if consumers is not None:
        doc["consumers"] = [c.model_dump(mode="json") for c in consumers]
    return [json.dumps(doc, ensure_ascii=False, indent=2)]
