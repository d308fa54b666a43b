"""The hub's typed view of an ODCS v3.1.0 data contract.

Contracts are checked against the ODCS JSON schemas (:mod:`contracts.odcs`) and parsed by the
``open-data-contract-standard`` models (so a file that is not valid ODCS does not load), then read
into :class:`Contract`, which carries exactly what the hub enforces: fields with types,
classification, masking and standard references; sharing and open type; primary key; publishing mode.

ODCS has no geometry type. A geometry field is written ``logicalType: object`` (in JSON it is a
GeoJSON geometry object), ``physicalType: geometry``, with custom properties ``geometryType``
(Point, Polygon, …) and ``crs`` (EPSG:4490); the hub's field type for it is ``geometry``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import CustomProperty, OpenDataContractStandard
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from contracts import disclosure
from contracts.odcs import SchemaProblem
from contracts.odcs import problems as odcs_problems
from hub.errors import ContractError


class Classification(StrEnum):
    """Field classification levels (GB/T 43697 grading mapped onto what leaves the hub)."""

    public = "public"  # 公开: returned in clear to anyone granted the dataset
    internal = "internal"  # 内部: returned in clear to granted government callers
    sensitive = "sensitive"  # 敏感: masked unless a grant names the field in clear
    restricted = "restricted"  # 高度敏感: never leaves the hub; can only be verified

    @property
    def masked_by_default(self) -> bool:
        return self in (Classification.sensitive, Classification.restricted)


class SharingType(StrEnum):
    unconditional = "无条件共享"
    conditional = "有条件共享"
    not_shared = "不予共享"


class OpenType(StrEnum):
    open = "无条件开放"
    conditional = "有条件开放"
    not_open = "不予开放"


class Strength(StrEnum):
    """What a failing cross-dataset reference does to a row."""

    hard = "hard"  # the row is rejected
    soft = "soft"  # the row is accepted; the miss is reported as a warning


class Reference(BaseModel):
    """A field's values must (hard) or should (soft) be keys of another dataset's current version.

    Written the ODCS v3.1 way: a property-level ``relationships`` entry of ``type: foreignKey`` whose
    ``to`` is a fully qualified reference into the other contract's file,
    ``spatial.grids.yaml#/schema/grids/properties/grid_code``, with a custom property ``strength``
    (``hard`` by default). See docs/contracts.md.
    """

    model_config = ConfigDict(frozen=True)

    dataset: str
    field: str
    strength: Strength = Strength.hard

    @property
    def rule(self) -> str:
        """The rule name rows are reported under, e.g. ``reference:spatial.grids.grid_code``."""
        return f"reference:{self.dataset}.{self.field}"


REFERENCE_TO = re.compile(
    r"^(?P<dataset>[A-Za-z0-9_]+\.[A-Za-z0-9_]+)\.yaml#/?schema/(?P<table>[A-Za-z0-9_-]+)/properties/(?P<field>[A-Za-z0-9_-]+)$"
)
REFERENCE_HINT = (
    "a reference is a relationship {type: foreignKey, to: DOMAIN.TABLE.yaml#/schema/TABLE/properties/FIELD} "
    "with customProperties [{property: strength, value: hard|soft}]"
)


LOGICAL_TYPES = ("string", "integer", "number", "date", "timestamp", "boolean", "geometry")
"""The hub's field types: the ODCS logical types it handles, and ``geometry`` (see the module docs)."""
GEOMETRY_TYPES = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
"""Values of the ``geometryType`` custom property (GeoJSON geometry types)."""
GEOMETRY_HINT = (
    "a geometry is written logicalType: object, physicalType: geometry, "
    "with customProperties geometryType (e.g. Point, Polygon) and crs (e.g. EPSG:4490)"
)


class Field(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    """The column header departments use (ODCS ``businessName``), usually Chinese."""
    type: str = "string"
    description: str | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    classification: Classification = Classification.internal
    mask: str | None = None
    standard: str | None = None
    code_table: str | None = None
    code_table_version: str | None = None
    agrees_with_id_number: str | None = None
    not_after_today: bool = False
    pattern: str | None = None
    filterable: bool = False
    crs: str | None = None
    """For geometry fields: the coordinate reference system (EPSG:4490, CGCS2000)."""
    geometry_type: str | None = None
    """For geometry fields: the GeoJSON geometry type (Point, Polygon, …)."""
    references: Reference | None = None
    """Another dataset's key this field's values must (hard) or should (soft) be one of."""


class Department(BaseModel):
    code: str
    name: str
    name_en: str | None = None


class Contract(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    domain: str
    table: str
    title: str
    title_en: str | None
    data_product: str | None = None
    """The base library or theme the dataset belongs to (ODCS ``dataProduct``), e.g. 人口基础库."""
    version: str
    status: str
    description: str
    usage: str | None
    limitations: str | None
    department: Department
    steward: str | None
    sharing_type: SharingType
    sharing_condition: str | None
    open_type: OpenType
    update_frequency: str
    publish_mode: str
    max_reject_ratio: float
    licence: str | None
    tags: list[str]
    fields: list[Field]
    derived_from: list[str] = []
    """For derived datasets: the input datasets; their publishes trigger a rebuild."""
    builder: str | None = None
    """For derived datasets: ``module:function`` that builds the table from its inputs."""
    dispute_days: int = 10
    """Working days the providing department has to answer a 校核 dispute (``disputeDays``)."""
    custom: dict[str, Any] = {}
    """Every contract-level custom property, for builders' own settings (thresholds, dates)."""
    path: str | None = None

    @property
    def primary_key(self) -> list[str]:
        return [f.name for f in self.fields if f.primary_key]

    @property
    def ckan_name(self) -> str:
        """CKAN package names allow ``[a-z0-9_-]`` only."""
        return self.id.replace(".", "-")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def derived(self) -> bool:
        return bool(self.derived_from)


def _props(items: list[CustomProperty] | None) -> dict[str, Any]:
    return {p.property: p.value for p in items or [] if p.property}


def _field(prop: Any, path: str) -> Field:
    custom = _props(prop.customProperties)
    name = prop.name or ""
    if not name:
        raise ContractError("a schema property has no name", path=path)
    logical = _field_type(prop, custom, path, name)
    mask = custom.get("mask")
    try:
        classification = Classification(prop.classification or "internal")
    except ValueError:
        levels = ", ".join(c.value for c in Classification)
        raise ContractError(
            f"classification {prop.classification!r} is not one of {levels}", path=path, field=name
        ) from None
    return Field(
        name=name,
        title=prop.businessName or name,
        type=logical,
        description=prop.description,
        required=bool(prop.required),
        unique=bool(prop.unique),
        primary_key=bool(prop.primaryKey),
        classification=classification,
        mask=mask,
        standard=custom.get("standard"),
        code_table=custom.get("codeTable"),
        code_table_version=(str(custom["codeTableVersion"]) if custom.get("codeTableVersion") else None),
        agrees_with_id_number=custom.get("agreesWithIdNumber"),
        not_after_today=bool(custom.get("notAfterToday", False)),
        pattern=(prop.logicalTypeOptions or {}).get("pattern"),
        filterable=bool(custom.get("filterable", False)),
        crs=custom.get("crs") if logical == "geometry" else None,
        geometry_type=custom.get("geometryType") if logical == "geometry" else None,
        references=_reference(prop, path, name),
    )


def _reference(prop: Any, path: str, name: str) -> Reference | None:
    """The field's cross-dataset reference, from its one ``foreignKey`` relationship (if any)."""
    found = [r for r in prop.relationships or [] if (r.type or "foreignKey") == "foreignKey"]
    if not found:
        return None
    if len(found) > 1:
        raise ContractError(f"a field references one dataset at most; {REFERENCE_HINT}", path=path, field=name)
    rel = found[0]
    match = REFERENCE_TO.match(rel.to) if isinstance(rel.to, str) else None
    if match is None:
        raise ContractError(f"relationship to {rel.to!r} names no dataset; {REFERENCE_HINT}", path=path, field=name)
    custom = _props(rel.customProperties)
    strength = _enum(Strength, custom.get("strength", "hard"), "relationship strength", path)
    return Reference(dataset=match["dataset"], field=match["field"], strength=strength)


def _field_type(prop: Any, custom: dict[str, Any], path: str, name: str) -> str:
    """The hub's type of a field; an ``object`` with a geometryType and a crs is a geometry."""
    logical = prop.logicalType or "string"
    kind = custom.get("geometryType")
    if logical != "object" and kind is None:
        if logical not in LOGICAL_TYPES or logical == "geometry":
            allowed = ", ".join(t for t in LOGICAL_TYPES if t != "geometry")
            raise ContractError(
                f"logicalType {logical!r} is not one of {allowed}, object; {GEOMETRY_HINT}", path=path, field=name
            )
        return str(logical)
    if logical != "object" or kind is None or not custom.get("crs") or prop.physicalType != "geometry":
        raise ContractError(f"the hub's only object fields are geometries: {GEOMETRY_HINT}", path=path, field=name)
    if kind not in GEOMETRY_TYPES:
        raise ContractError(f"geometryType {kind!r} is not one of {', '.join(GEOMETRY_TYPES)}", path=path, field=name)
    return "geometry"


def _enum(kind: type[StrEnum], value: Any, what: str, path: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(v.value for v in kind)  # type: ignore[attr-defined]
        raise ContractError(f"{what} {value!r} is not one of {allowed}", path=path) from None


def from_odcs(odcs: OpenDataContractStandard, path: str = "<string>") -> Contract:
    if not odcs.id or not odcs.domain:
        raise ContractError("contract needs an id (domain.table) and a domain", path=path)
    if not odcs.schema_ or len(odcs.schema_) != 1:
        raise ContractError("contract must describe exactly one schema object (the table)", path=path)
    schema = odcs.schema_[0]
    custom = _props(odcs.customProperties)
    fields = [_field(p, path) for p in schema.properties or []]
    if not fields:
        raise ContractError("schema has no properties", path=path)
    if not any(f.primary_key for f in fields):
        raise ContractError("no field is marked primaryKey", path=path)
    names = {f.name for f in fields}
    for f in fields:
        if f.agrees_with_id_number and f.agrees_with_id_number not in names:
            raise ContractError(
                f"agreesWithIdNumber names unknown field {f.agrees_with_id_number!r}", path=path, field=f.name
            )
    dept = custom.get("department")
    if not isinstance(dept, dict) or "code" not in dept or "name" not in dept:
        raise ContractError("customProperties.department needs {code, name}", path=path)
    team = odcs.team
    members = (team.members if team is not None and not isinstance(team, list) else team) or []
    steward = next((m.username for m in members if m.role == "steward"), None)
    description = odcs.description
    derived_from = [str(d) for d in custom.get("derivedFrom") or []]
    builder = custom.get("builder")
    if bool(derived_from) != bool(builder):
        raise ContractError("a derived dataset needs both derivedFrom and builder", path=path)
    mode = custom.get("publishMode", "snapshot")
    if mode not in ("snapshot", "append"):
        raise ContractError(f"publishMode {mode!r} is not snapshot or append", path=path)
    dispute_days = custom.get("disputeDays", 10)
    if not isinstance(dispute_days, int) or isinstance(dispute_days, bool) or not 1 <= dispute_days <= 250:
        raise ContractError(f"disputeDays {dispute_days!r} is not a number of working days (1–250)", path=path)
    contract = Contract(
        id=odcs.id,
        domain=odcs.domain,
        table=schema.physicalName or schema.name or odcs.id.split(".")[-1],
        title=schema.businessName or odcs.name or odcs.id,
        title_en=custom.get("titleEn"),
        data_product=odcs.dataProduct,
        version=odcs.version or "0.0.0",
        status=odcs.status or "draft",
        description=(description.purpose if description else None) or "",
        usage=description.usage if description else None,
        limitations=description.limitations if description else None,
        department=Department(code=str(dept["code"]), name=dept["name"], name_en=dept.get("nameEn")),
        steward=steward,
        sharing_type=_enum(SharingType, custom.get("sharingType", "有条件共享"), "sharingType", path),
        sharing_condition=custom.get("sharingCondition"),
        open_type=_enum(OpenType, custom.get("openType", "不予开放"), "openType", path),
        update_frequency=str(custom.get("updateFrequency", "irregular")),
        publish_mode=mode,
        max_reject_ratio=float(custom.get("maxRejectRatio", 0.2)),
        licence=custom.get("licence"),
        tags=list(odcs.tags or []),
        fields=fields,
        derived_from=derived_from,
        builder=builder,
        dispute_days=dispute_days,
        custom=custom,
        path=path,
    )
    disclosure.check_contract(contract)
    return contract


def check_references(contract: Contract) -> None:
    """Fail with a clear error when a field names a standard or code table the hub lacks."""
    from standards import registry, tables
    from standards.errors import UnknownStandard

    known = set(registry.known())
    for f in contract.fields:
        if f.standard and f.standard not in known:
            raise ContractError(
                f"unknown standard {f.standard!r}; known standards: {', '.join(sorted(known))}",
                path=contract.path,
                field=f.name,
            )
        if f.code_table:
            try:
                tables.codes(f.code_table, f.code_table_version)
            except UnknownStandard as exc:
                raise ContractError(str(exc), path=contract.path, field=f.name) from None


@lru_cache(maxsize=128)
def _schema_problems(text: str) -> tuple[SchemaProblem, ...]:
    """The JSON-schema check (about 30 ms a contract), once per contract text in a process."""
    return tuple(odcs_problems(yaml.safe_load(text)))


def parse(text: str, path: str = "<string>") -> Contract:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"not valid YAML: {exc}", path=path) from None
    if not isinstance(data, dict):
        raise ContractError("a contract is a YAML mapping", path=path)
    found = _schema_problems(text)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more; `hub contracts lint` lists them)" if len(found) > 1 else ""
        hint = f"; {GEOMETRY_HINT}" if "'geometry'" in first.message else ""
        raise ContractError(
            f"not a valid ODCS {data.get('apiVersion', '')} contract at {first.where or 'the top'}: "
            f"{first.message}{hint}{more}",
            path=path,
        )
    try:
        standard = OpenDataContractStandard(**data)
    except PydanticValidationError as exc:
        first_error = exc.errors()[0]
        loc = ".".join(str(x) for x in first_error["loc"])
        raise ContractError(f"not a valid ODCS contract at {loc}: {first_error['msg']}", path=path) from None
    contract = from_odcs(standard, path)
    check_references(contract)
    return contract


def load(path: Path) -> Contract:
    return parse(path.read_text(encoding="utf-8"), str(path))


def load_all(folder: Path) -> list[Contract]:
    """Every contract in ``folder``, checked together: masked keys they share must hold across them."""
    contracts = [load(p) for p in sorted(folder.glob("*.yaml"))]
    disclosure.check_across(contracts)
    check_references_across(contracts)
    return contracts


def check_references_across(contracts: list[Contract]) -> None:
    """Every cross-dataset reference names a dataset among ``contracts`` and a field of it that is unique."""
    by_id = {c.id: c for c in contracts}
    for c in contracts:
        for f in c.fields:
            ref = f.references
            if ref is None:
                continue
            target = by_id.get(ref.dataset)
            if target is None:
                raise ContractError(f"references unknown dataset {ref.dataset!r}", path=c.path, field=f.name)
            try:
                key = target.field(ref.field)
            except KeyError:
                raise ContractError(
                    f"references {ref.field!r}, which is not a field of {ref.dataset}", path=c.path, field=f.name
                ) from None
            if not (key.unique or target.primary_key == [key.name]):
                raise ContractError(
                    f"references {ref.dataset}.{ref.field}, which is not a unique key of {ref.dataset}",
                    path=c.path,
                    field=f.name,
                )


def find(folder: Path, dataset_id: str) -> Contract:
    path = folder / f"{dataset_id}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.yaml")))
        raise ContractError(f"no contract for dataset {dataset_id!r}; known: {known}")
    return load(path)
