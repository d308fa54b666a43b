"""The policy of one caller on one dataset: which fields leave the hub, and how.

:func:`policy_for` is pure: it reads the caller's role and organization, the dataset's
catalogue entry and its contract, and answers a :class:`Policy` or refuses. Every data route
asks it; none decides a mask or a sharing rule itself.

A policy starts from the contract's default (sensitive fields masked, restricted fields
withheld, siblings of a masked ID number generalized, see :mod:`contracts.disclosure`). Then:

- 不予共享 (not shared): only the providing department and data stewards, whatever is granted;
- 有条件共享 (conditional): a live grant is needed (the providing department and stewards read
  the default release without one); everyone else is told how to ask;
- 无条件共享 (unconditional): every key holder gets the default release;
- open to the public (:func:`open_to_public`: 无条件开放 *and* 无条件共享, and not private): anyone,
  without a key, gets the default release — the anonymous policy; every other dataset refuses an
  anonymous caller (401: a key is needed);
- a grant narrows the fields to those it names, releases the ones it names in clear (as far as
  the disclosure rule allows), and adds its row filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from catalog import permissions
from catalog.models import ApiClient, Dataset
from contracts import disclosure
from contracts.masks import MASKS
from contracts.model import Contract, Field, OpenType, SharingType
from hub.errors import Forbidden, InputError, NotAuthorized
from warehouse.duck import quote

CLEAR = disclosure.CLEAR


class GrantTerms(Protocol):
    """What the policy reads of a grant (:class:`access.grants.Grant`)."""

    @property
    def id(self) -> str: ...
    @property
    def dataset(self) -> str: ...
    @property
    def fields(self) -> list[Any]: ...
    @property
    def clear_fields(self) -> list[Any]: ...
    @property
    def row_filter(self) -> str | None: ...
    @property
    def purpose(self) -> str: ...


@dataclass(frozen=True)
class Column:
    """One field as it leaves the hub: in clear, or under a mask."""

    field: Field
    release: str
    """``clear`` or the name of a mask in :data:`contracts.masks.MASKS`."""

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def masked(self) -> bool:
        return self.release != CLEAR

    @property
    def type(self) -> str:
        """The logical type of the released value (a birth date given as year-month is a string)."""
        if self.masked:
            return MASKS[self.release].output_type or self.field.type
        return self.field.type

    def sql(self, source: str = "") -> str:
        """The select expression, reading the stored column from table alias ``source``."""
        col = f"{source}.{quote(self.name)}" if source else quote(self.name)
        if self.masked:
            return f"{MASKS[self.release].sql(col)} AS {quote(self.name)}"
        if self.field.type == "geometry":
            return f"ST_AsGeoJSON(ST_GeomFromWKB({col})) AS {quote(self.name)}"
        return f"{col} AS {quote(self.name)}" if source else col

    def describe(self) -> dict[str, object]:
        """What the API tells a caller about the column."""
        return {
            "name": self.name,
            "title": self.field.title,
            "type": self.type,
            "classification": self.field.classification.value,
            "masked": self.masked,
            "release": self.release,
            **({"shows": MASKS[self.release].shows} if self.masked else {}),
        }


@dataclass(frozen=True)
class Policy:
    """What one caller may get from one dataset."""

    dataset: str
    """The dataset id (the contract id, ``population.residents``)."""
    columns: tuple[Column, ...]
    withheld: frozenset[str]
    """Fields that exist but never leave the hub for this caller (restricted: verify only)."""
    ungranted: frozenset[str] = frozenset()
    """Fields the caller's grant does not name."""
    row_filter: str | None = None
    """The grant's row filter, as the hub's SQL over stored columns."""
    grant_id: str | None = None
    purpose: str | None = None
    requests_per_minute: int | None = None
    rows_per_day: int | None = None
    """The grant's rate limits, when it sets them."""

    @property
    def clear_names(self) -> list[str]:
        return [c.name for c in self.columns if not c.masked]

    def column(self, name: str, *, rule: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        if name in self.ungranted:
            raise Forbidden(
                f"field {name!r} is not in your grant on {self.dataset}; ask for it with an access request "
                "(POST /api/v1/access-requests)"
            )
        if name in self.withheld:
            raise InputError(
                f"field {name!r} never leaves the hub; ask the verify API whether a value matches",
                column=name,
                rule=rule,
            )
        raise InputError(f"unknown field {name!r}; fields: {', '.join(self.names)}", column=name, rule=rule)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def select(self, names: Sequence[str] | None = None) -> list[Column]:
        """The columns asked for (all by default), refusing unknown or withheld ones."""
        if not names:
            return list(self.columns)
        unknown = [n for n in names if n not in self.names and n not in self.ungranted]
        if unknown:
            raise InputError(
                f"unknown fields {unknown}; available: {', '.join(self.names)}", column=unknown[0], rule="fields"
            )
        return [self.column(n, rule="fields") for n in names]

    def in_clear(self, name: str, *, rule: str, purpose: str) -> Column:
        """A column a caller may filter, search or sort on: only what it receives in clear.

        Comparing a masked or generalized value with a caller's value would reveal it.
        """
        col = self.column(name, rule=rule)
        if col.masked:
            raise InputError(
                f"field {name!r} is released masked ({MASKS[col.release].shows}): {purpose} on it would reveal "
                "what the mask hides; use the verify API instead",
                column=name,
                rule=rule,
            )
        if col.field.type == "geometry":
            raise InputError(f"field {name!r} is a geometry; {purpose} by value is not offered", column=name, rule=rule)
        return col


def may_read(caller: ApiClient | None, ds: Dataset, sharing: SharingType) -> bool:
    """不予共享 data is read by its own department and by data stewards, nobody else."""
    if sharing is not SharingType.not_shared:
        return True
    return permissions.is_steward(caller) or permissions.member_of(caller, ds.organization)


def require_shared(caller: ApiClient | None, ds: Dataset, sharing: SharingType) -> None:
    if not may_read(caller, ds, sharing):
        raise Forbidden(
            f"dataset {ds.name} is {SharingType.not_shared.value} (not shared): only {ds.organization.title} "
            "and data stewards may read its data"
        )


def sharing_of(ds: Dataset, contract: Contract | None = None) -> SharingType:
    """The stricter of the contract's and the catalogue's sharing type (they agree once registered)."""
    types = {SharingType(ds.sharing_type)} if ds.sharing_type in SharingType._value2member_map_ else set()
    if contract is not None:
        types.add(contract.sharing_type)
    order = [SharingType.not_shared, SharingType.conditional, SharingType.unconditional]
    return next((t for t in order if t in types), SharingType.conditional)


def open_to_public(ds: Dataset, contract: Contract | None = None) -> bool:
    """The one definition of an open dataset: open type 无条件开放 (in the catalogue and in the
    contract, when given) and sharing type 无条件共享, and not private. Its data is read without a
    key, under the anonymous policy (the contract's default release: sensitive fields masked,
    restricted ones withheld)."""
    open_types = {ds.open_type} | ({contract.open_type.value} if contract is not None else set())
    return (
        open_types == {OpenType.open.value} and not ds.private and sharing_of(ds, contract) is SharingType.unconditional
    )


def privileged(caller: ApiClient | None, ds: Dataset) -> bool:
    """Data stewards and the providing department read without a grant."""
    return permissions.is_steward(caller) or permissions.member_of(caller, ds.organization)


def policy_for(caller: ApiClient | None, ds: Dataset, contract: Contract, grants: Sequence[GrantTerms] = ()) -> Policy:
    """The policy of ``caller`` on dataset ``ds`` governed by ``contract``, given the caller's live
    grants on it (newest first; the newest applies). Refuses what the sharing type forbids, and an
    anonymous caller (``None``) on any dataset that is not open to the public."""
    if caller is None and not open_to_public(ds, contract):
        raise NotAuthorized(
            f"an API key is required to read dataset {ds.name}: send it as X-API-Key or Authorization: Bearer <key> "
            f"(only datasets that are {OpenType.open.value} and {SharingType.unconditional.value} are read without one)"
        )
    sharing = sharing_of(ds, contract)
    require_shared(caller, ds, sharing)
    grant = next((g for g in grants if g.dataset == contract.id), None)
    if sharing is SharingType.conditional and grant is None and not privileged(caller, ds):
        raise Forbidden(
            f"dataset {ds.name} is {SharingType.conditional.value} (conditional): its data is read under a grant. "
            f"File an access request: POST /api/v1/access-requests with dataset {contract.id!r}, the fields you "
            "need, your purpose and legal basis; a data steward answers within 10 working days"
        )
    released = disclosure.releases(contract, grant.clear_fields if grant else ())
    disclosure.check_release(contract, released)
    by_name = {f.name: f for f in contract.fields}
    withheld = frozenset(by_name) - frozenset(released)
    ungranted: frozenset[str] = frozenset()
    if grant is not None:
        ungranted = frozenset(released) - frozenset(grant.fields)
        released = {k: v for k, v in released.items() if k in grant.fields}
    columns = tuple(Column(by_name[name], release) for name, release in released.items())
    return Policy(
        contract.id,
        columns,
        withheld,
        ungranted,
        row_filter=grant.row_filter if grant else None,
        grant_id=grant.id if grant else None,
        purpose=grant.purpose if grant else None,
        requests_per_minute=getattr(grant, "requests_per_minute", None),
        rows_per_day=getattr(grant, "rows_per_day", None),
    )
