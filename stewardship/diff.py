"""What changed between two versions of a data contract, and what the change needs.

:func:`diff` compares two contracts of one dataset and returns a typed list of :class:`Change`,
each with its :class:`ChangeKind` and :class:`Impact`; :func:`verdict` adds them up (the worst
impact and the least semantic-version bump the new contract needs); :func:`gate` refuses a new
version that does not carry that bump, or a breaking change without a migration date.

The classes, in one sentence each (docs/stewardship.md has the table):

* **breaking**: data that passed the old contract may be refused by the new one (a new required
  field, a tightened rule, a narrowed type), or a consumer reading under the old contract reads
  something else or nothing (a removed or renamed field, a changed key, a value now masked, a
  dataset now shared less): a major version, a steward's approval and a migration date;
* **policy**: nothing breaks, but more is released or promised differently (a lowered
  classification, another mask, looser sharing or opening, another update frequency): a minor
  version and a steward's look;
* **compatible**: an optional field added, a rule loosened: a minor version; a description: a
  patch.

A field that disappears while another appears is read as a **rename** when exactly one of the
new fields has the removed field's type and either its business name (the column header
departments use, when it is not just the field name) or its position in the field list.
Everything else is a removal and an addition.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from contracts import model
from contracts.model import Classification, Contract, Field, OpenType, SharingType
from hub.errors import Conflict, ContractError

Value = str | int | float | bool | list[str] | None


class Impact(StrEnum):
    compatible = "compatible"
    policy = "policy"
    breaking = "breaking"


class Bump(StrEnum):
    """The semantic-version part a change needs raised, least to most."""

    none = "none"
    patch = "patch"
    minor = "minor"
    major = "major"


BUMP_ORDER = list(Bump)
IMPACT_ORDER = list(Impact)


class ChangeKind(StrEnum):
    field_added_optional = "field_added_optional"
    field_added_required = "field_added_required"
    field_removed = "field_removed"
    field_renamed = "field_renamed"
    type_widened = "type_widened"
    type_narrowed = "type_narrowed"
    type_changed = "type_changed"
    required_changed = "required_changed"
    unique_changed = "unique_changed"
    rule_tightened = "rule_tightened"
    rule_loosened = "rule_loosened"
    pattern_changed = "pattern_changed"
    enum_values_removed = "enum_values_removed"
    enum_values_added = "enum_values_added"
    classification_raised = "classification_raised"
    classification_lowered = "classification_lowered"
    mask_changed = "mask_changed"
    title_changed = "title_changed"
    primary_key_changed = "primary_key_changed"
    sharing_type_changed = "sharing_type_changed"
    sharing_condition_changed = "sharing_condition_changed"
    open_type_changed = "open_type_changed"
    update_frequency_changed = "update_frequency_changed"
    publish_mode_changed = "publish_mode_changed"
    description_changed = "description_changed"


class Change(BaseModel):
    """One difference between two contracts of a dataset."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    field: str | None
    """The field as the old contract names it (the new name for an added field); None: the dataset."""
    before: Value = None
    after: Value = None
    impact: Impact
    rule: str | None = None
    """For rule changes: which rule (pattern, minimum, codeTable, maxRejectRatio, …)."""

    @property
    def bump(self) -> Bump:
        if self.impact is Impact.breaking:
            return Bump.major
        return Bump.patch if self.kind is ChangeKind.description_changed else Bump.minor

    def describe(self) -> str:
        where = f"field {self.field}" if self.field else "the dataset"
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.kind.value}{rule} on {where}: {show(self.before)} → {show(self.after)}"


def show(value: Value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return str(value)


# --- fields -------------------------------------------------------------------------------------

WIDER = {("integer", "number"), ("date", "timestamp")} | {
    (t, "string") for t in ("integer", "number", "date", "timestamp", "boolean")
}
"""(from, to) type pairs where every value of the first type is a value of the second."""
LEVEL = {c: i for i, c in enumerate(Classification)}
SHARING = {SharingType.unconditional: 0, SharingType.conditional: 1, SharingType.not_shared: 2}
OPENING = {OpenType.open: 0, OpenType.conditional: 1, OpenType.not_open: 2}
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength")
OTHER_OPTIONS = ("format", "multipleOf")
RULES = ("code_table", "code_table_version", "standard", "agrees_with_id_number", "not_after_today")
ENUM = re.compile(r"^\^\(([^()\[\]\\.*+?{}^$]*)\)\$$")
"""A pattern that is a list of values, ``^(存续|注销|吊销)$``: compared value by value."""


def _change(
    kind: ChangeKind, impact: Impact, field: str | None, before: Any, after: Any, rule: str | None = None
) -> Change:
    return Change(kind=kind, field=field, before=before, after=after, impact=impact, rule=rule)


def options(doc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each field's ``logicalTypeOptions`` in an ODCS document (the bounds the model does not keep)."""
    if not doc:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for schema in doc.get("schema") or []:
        for prop in schema.get("properties") or []:
            if isinstance(prop, dict) and prop.get("name"):
                out[str(prop["name"])] = dict(prop.get("logicalTypeOptions") or {})
    return out


def _type(name: str, a: Field, b: Field) -> Iterator[Change]:
    if a.type == b.type:
        return
    if (a.type, b.type) in WIDER:
        yield _change(ChangeKind.type_widened, Impact.compatible, name, a.type, b.type)
    elif (b.type, a.type) in WIDER:
        yield _change(ChangeKind.type_narrowed, Impact.breaking, name, a.type, b.type)
    else:
        yield _change(ChangeKind.type_changed, Impact.breaking, name, a.type, b.type)


def _flags(name: str, a: Field, b: Field) -> Iterator[Change]:
    """Required and unique: turned on tightens (breaking), turned off loosens (compatible)."""
    for kind, before, after in (
        (ChangeKind.required_changed, a.required, b.required),
        (ChangeKind.unique_changed, a.unique, b.unique),
    ):
        if before != after:
            yield _change(kind, Impact.breaking if after else Impact.compatible, name, before, after)


def _enum_values(pattern: str | None) -> list[str] | None:
    found = ENUM.match(pattern) if pattern else None
    return found.group(1).split("|") if found else None


def _pattern(name: str, a: Field, b: Field) -> Iterator[Change]:
    if a.pattern == b.pattern:
        return
    old, new = _enum_values(a.pattern), _enum_values(b.pattern)
    if old is not None and new is not None:
        gone, more = [v for v in old if v not in new], [v for v in new if v not in old]
        if gone:
            yield _change(ChangeKind.enum_values_removed, Impact.breaking, name, gone, None, "pattern")
        if more:
            yield _change(ChangeKind.enum_values_added, Impact.compatible, name, None, more, "pattern")
        return
    if a.pattern is None:
        yield _change(ChangeKind.rule_tightened, Impact.breaking, name, None, b.pattern, "pattern")
    elif b.pattern is None:
        yield _change(ChangeKind.rule_loosened, Impact.compatible, name, a.pattern, None, "pattern")
    else:
        yield _change(ChangeKind.pattern_changed, Impact.breaking, name, a.pattern, b.pattern, "pattern")


def _tighter(rule: str, before: Any, after: Any) -> bool | None:
    """Does the rule accept less after the change? None: cannot tell (treated as tighter)."""
    if before is None:
        return True
    if after is None:
        return False
    if rule in OTHER_OPTIONS or rule in RULES:
        return None
    try:
        raised = after > before
    except TypeError:
        return None
    return raised if rule in LOWER_BOUNDS else not raised


def _rule(name: str | None, rule: str, before: Any, after: Any) -> Iterator[Change]:
    before, after = (None if v is False else v for v in (before, after))  # a flag off is no rule
    if before == after:
        return
    if _tighter(rule, before, after) is False:
        yield _change(ChangeKind.rule_loosened, Impact.compatible, name, _plain(before), _plain(after), rule)
    else:
        yield _change(ChangeKind.rule_tightened, Impact.breaking, name, _plain(before), _plain(after), rule)


def _plain(value: Any) -> Value:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _rules(name: str, a: Field, b: Field, opts_a: dict[str, Any], opts_b: dict[str, Any]) -> Iterator[Change]:
    yield from _pattern(name, a, b)
    for rule in RULES:
        yield from _rule(name, rule, getattr(a, rule), getattr(b, rule))
    for rule in (*LOWER_BOUNDS, *UPPER_BOUNDS, *OTHER_OPTIONS):
        yield from _rule(name, rule, opts_a.get(rule), opts_b.get(rule))


def _release(name: str, a: Field, b: Field) -> Iterator[Change]:
    if LEVEL[b.classification] > LEVEL[a.classification]:
        yield _change(ChangeKind.classification_raised, Impact.breaking, name, a.classification, b.classification)
    elif LEVEL[b.classification] < LEVEL[a.classification]:
        yield _change(ChangeKind.classification_lowered, Impact.policy, name, a.classification, b.classification)
    if a.mask != b.mask:
        yield _change(ChangeKind.mask_changed, Impact.policy, name, a.mask, b.mask)


def _words(name: str, a: Field, b: Field) -> Iterator[Change]:
    if a.title != b.title:  # the header departments write: files headed the old way stop matching
        yield _change(ChangeKind.title_changed, Impact.breaking, name, a.title, b.title)
    if a.description != b.description:
        yield _change(ChangeKind.description_changed, Impact.compatible, name, a.description, b.description)


def field_changes(
    name: str, a: Field, b: Field, opts_a: dict[str, Any] | None = None, opts_b: dict[str, Any] | None = None
) -> list[Change]:
    """The changes of one field kept (or renamed) from ``a`` to ``b``, under its old name."""
    return [
        *_type(name, a, b),
        *_flags(name, a, b),
        *_rules(name, a, b, opts_a or {}, opts_b or {}),
        *_release(name, a, b),
        *_words(name, a, b),
    ]


def renames(old: Contract, new: Contract) -> dict[str, str]:
    """Old name → new name of the fields read as renamed (see the module's docs)."""
    kept = {f.name for f in new.fields}
    removed = [(i, f) for i, f in enumerate(old.fields) if f.name not in kept]
    before = {f.name for f in old.fields}
    added = [(i, f) for i, f in enumerate(new.fields) if f.name not in before]
    out: dict[str, str] = {}
    for i, gone in removed:
        named = gone.title != gone.name
        matches = [
            f for j, f in added
            if f.type == gone.type and f.name not in out.values() and ((named and f.title == gone.title) or j == i)
        ]  # fmt: skip
        if len(matches) == 1:
            out[gone.name] = matches[0].name
    return out


def _fields(old: Contract, new: Contract, opts_old: dict[str, Any], opts_new: dict[str, Any]) -> Iterator[Change]:
    renamed = renames(old, new)
    after = {f.name: f for f in new.fields}
    for f in old.fields:
        target = renamed.get(f.name, f.name)
        if target not in after:
            yield _change(ChangeKind.field_removed, Impact.breaking, f.name, f.type, None)
            continue
        if target != f.name:
            yield _change(ChangeKind.field_renamed, Impact.breaking, f.name, f.name, target)
        yield from field_changes(f.name, f, after[target], opts_old.get(f.name), opts_new.get(target))
    kept = {renamed.get(f.name, f.name) for f in old.fields}
    for f in new.fields:
        if f.name not in kept:
            if f.required:
                yield _change(ChangeKind.field_added_required, Impact.breaking, f.name, None, f.type)
            else:
                yield _change(ChangeKind.field_added_optional, Impact.compatible, f.name, None, f.type)


# --- the dataset --------------------------------------------------------------------------------


def _ordered(kind: ChangeKind, before: Any, after: Any, order: dict[Any, int]) -> Iterator[Change]:
    """Sharing and opening: stricter breaks the consumers it shuts out; looser is the steward's call."""
    if before != after:
        impact = Impact.breaking if order[after] > order[before] else Impact.policy
        yield _change(kind, impact, None, before.value, after.value)


DESCRIPTIVE = ("title", "title_en", "description", "usage", "limitations", "licence", "tags", "steward", "data_product")


def _dataset(old: Contract, new: Contract, renamed: dict[str, str]) -> Iterator[Change]:
    key = [renamed.get(k, k) for k in old.primary_key]
    if key != new.primary_key:
        yield _change(ChangeKind.primary_key_changed, Impact.breaking, None, old.primary_key, new.primary_key)
    yield from _ordered(ChangeKind.sharing_type_changed, old.sharing_type, new.sharing_type, SHARING)
    if old.sharing_condition != new.sharing_condition:
        yield _change(
            ChangeKind.sharing_condition_changed, Impact.policy, None, old.sharing_condition, new.sharing_condition
        )
    yield from _ordered(ChangeKind.open_type_changed, old.open_type, new.open_type, OPENING)
    if old.update_frequency != new.update_frequency:
        yield _change(
            ChangeKind.update_frequency_changed, Impact.policy, None, old.update_frequency, new.update_frequency
        )
    if old.publish_mode != new.publish_mode:
        yield _change(ChangeKind.publish_mode_changed, Impact.breaking, None, old.publish_mode, new.publish_mode)
    if old.max_reject_ratio != new.max_reject_ratio:  # a lower share of rejects allowed is a tighter rule
        tighter = new.max_reject_ratio < old.max_reject_ratio
        kind, impact = (
            (ChangeKind.rule_tightened, Impact.breaking) if tighter else (ChangeKind.rule_loosened, Impact.compatible)
        )
        yield _change(kind, impact, None, old.max_reject_ratio, new.max_reject_ratio, "maxRejectRatio")
    for attr in DESCRIPTIVE:
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            yield _change(ChangeKind.description_changed, Impact.compatible, None, before, after, attr)


def diff(
    old: Contract, new: Contract, *, old_doc: dict[str, Any] | None = None, new_doc: dict[str, Any] | None = None
) -> list[Change]:
    """Every change from ``old`` to ``new`` (one dataset); the ODCS documents add the bounds
    (``logicalTypeOptions``) the typed contract does not carry."""
    if old.id != new.id:
        raise ContractError(f"the two contracts are of different datasets: {old.id} and {new.id}")
    renamed = renames(old, new)
    return [*_fields(old, new, options(old_doc), options(new_doc)), *_dataset(old, new, renamed)]


class Side(BaseModel):
    """A contract and the ODCS document it was read from."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    contract: Contract
    doc: dict[str, Any]


def read(text: str, where: str = "<string>") -> Side:
    contract = model.parse(text, where)
    return Side(contract=contract, doc=yaml.safe_load(text))


def read_file(path: Path) -> Side:
    return read(path.read_text(encoding="utf-8"), str(path))


def diff_sides(old: Side, new: Side) -> list[Change]:
    return diff(old.contract, new.contract, old_doc=old.doc, new_doc=new.doc)


# --- the verdict and the gate -------------------------------------------------------------------


def semver(text: str) -> tuple[int, int, int]:
    found = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not found:
        raise ContractError(f"version {text!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(x) for x in found.groups())
    return major, minor, patch


def bump_between(old: str, new: str) -> Bump:
    """The part raised from ``old`` to ``new`` (``none`` when ``new`` is not higher)."""
    a, b = semver(old), semver(new)
    if b <= a:
        return Bump.none
    if b[0] > a[0]:
        return Bump.major
    return Bump.minor if b[1] > a[1] else Bump.patch


def least_version(old: str, bump: Bump) -> str:
    major, minor, patch = semver(old)
    if bump is Bump.major:
        return f"{major + 1}.0.0"
    if bump is Bump.minor:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.patch:
        return f"{major}.{minor}.{patch + 1}"
    return old


class Verdict(BaseModel):
    """The sum of a diff: what it is, what it needs, and what consumers must be told."""

    dataset: str
    old_version: str
    new_version: str
    changes: list[Change]
    impact: Impact | None
    """The worst impact of the changes; None when nothing changed."""
    bump: Bump
    """The least version part the changes need raised."""
    migration_date: dt.date | None = None

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.impact is Impact.breaking]

    @property
    def to_tell(self) -> list[Change]:
        """What consumers are told: every change but the compatible ones."""
        return [c for c in self.changes if c.impact is not Impact.compatible]

    @property
    def version_bumped(self) -> Bump:
        return bump_between(self.old_version, self.new_version)

    @property
    def version_ok(self) -> bool:
        return BUMP_ORDER.index(self.version_bumped) >= BUMP_ORDER.index(self.bump)

    @property
    def least_version(self) -> str:
        return least_version(self.old_version, self.bump)


def verdict(old: Contract, new: Contract, changes: list[Change]) -> Verdict:
    worst = max((IMPACT_ORDER.index(c.impact) for c in changes), default=None)
    bump = max((BUMP_ORDER.index(c.bump) for c in changes), default=0)
    return Verdict(
        dataset=new.id,
        old_version=old.version,
        new_version=new.version,
        changes=changes,
        impact=IMPACT_ORDER[worst] if worst is not None else None,
        bump=BUMP_ORDER[bump],
    )


class GateRefused(Conflict):
    """A new contract version the gate does not let through; ``changes`` are the ones that need more."""

    def __init__(self, message: str, changes: list[Change]):
        self.changes = changes
        super().__init__(message)


def _listing(changes: list[Change]) -> str:
    return "; ".join(c.describe() for c in changes)


def gate(
    old: Contract,
    new: Contract,
    *,
    approved_migration_date: dt.date | None,
    today: dt.date | None = None,
    old_doc: dict[str, Any] | None = None,
    new_doc: dict[str, Any] | None = None,
) -> Verdict:
    """Let ``new`` replace ``old``, or refuse with :class:`GateRefused`.

    Refused: a version not raised as far as the changes need (a breaking change without a major
    version, an addition with only a patch), and a breaking change without a migration date on or
    after ``today``. The verdict carries the date and the changes consumers are told."""
    changes = diff(old, new, old_doc=old_doc, new_doc=new_doc)
    found = verdict(old, new, changes)
    needs = [c for c in changes if BUMP_ORDER.index(c.bump) > BUMP_ORDER.index(found.version_bumped)]
    if needs:
        raise GateRefused(
            f"{new.id} {new.version} needs a {found.bump.value} version (at least {found.least_version}, "
            f"from {old.version}) for {len(needs)} change(s): {_listing(needs)}",
            needs,
        )
    if found.breaking:
        today = today or dt.date.today()
        if approved_migration_date is None:
            raise GateRefused(
                f"{new.id} {new.version} breaks consumers and needs a steward's migration date for "
                f"{len(found.breaking)} breaking change(s): {_listing(found.breaking)}",
                found.breaking,
            )
        if approved_migration_date < today:
            raise GateRefused(
                f"migration date {approved_migration_date} of {new.id} {new.version} is in the past "
                f"(today is {today}); breaking change(s): {_listing(found.breaking)}",
                found.breaking,
            )
    return found.model_copy(update={"migration_date": approved_migration_date if found.breaking else None})
