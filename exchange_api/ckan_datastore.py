"""datastore_search over the warehouse: the dataset's serving copy, masked exactly as the records API.

Field selection, filters (never on masked fields) and masking are the records API's own
(``exchange_api.records``, ``warehouse.masking``), so both paths out of the hub apply one policy.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from catalog import lookup, permissions
from contracts.model import Contract, Field
from exchange_api import records
from exchange_api.ckan_actions import ActionError, Context, action, as_bool, as_int, as_json, required
from hub.errors import InputError, NotFound
from warehouse.masking import quote, select_expression
from warehouse.serving import ROW, TABLE

LIMIT_DEFAULT, LIMIT_MAX = 100, 1000
CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "number": "numeric",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "bool",
}


def _field_names(value: Any) -> str | None:
    value = as_json(value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value) if value not in (None, "") else None


def _filters(contract: Contract, value: Any) -> tuple[list[str], list[Any]]:
    value = as_json(value) or {}
    if not isinstance(value, dict):
        raise ActionError(409, "Validation Error", fields={"filters": ["Not a json object"]})
    scalar = {}
    for key, item in value.items():
        if isinstance(item, list | dict):
            raise ActionError(409, "Validation Error", fields={"filters": [f"filter {key!r}: give one value"]})
        scalar[str(key)] = str(item)
    return records._filters(contract, scalar)


def _text_search(contract: Contract, q: Any) -> tuple[list[str], list[Any]]:
    """``q``: rows where any unmasked text field contains it (masked fields are never searched)."""
    if q in (None, ""):
        return [], []
    if not isinstance(q, str):
        raise ActionError(409, "Validation Error", fields={"q": ["give q as a string"]})
    cols = [f for f in contract.fields if f.type == "string" and not f.classification.masked_by_default]
    if not cols:
        return ["FALSE"], []
    clause = " OR ".join(f"{quote(f.name)} ILIKE ?" for f in cols)
    return [f"({clause})"], [f"%{q}%"] * len(cols)


def _sort(contract: Contract, value: Any) -> str:
    if value in (None, ""):
        return quote(ROW)
    order = []
    for part in str(value).split(","):
        bits = part.split()
        if not bits:
            continue
        name, direction = bits[0].strip('"'), (bits[1].upper() if len(bits) > 1 else "ASC")
        if name == "_id":
            name = ROW
        else:
            try:
                f = contract.field(name)
            except KeyError:
                raise InputError(f"cannot sort on unknown field {name!r}", column=name, rule="sort") from None
            if f.classification.masked_by_default:
                raise InputError(f"cannot sort on masked field {name!r}", column=name, rule="sort")
        if direction not in ("ASC", "DESC") or not re.fullmatch(r"\w+", name):
            raise InputError(f"cannot sort by {part.strip()!r}", rule="sort")
        order.append(f"{quote(name)} {direction}")
    return ", ".join(order + [quote(ROW)])


def _field_info(f: Field) -> dict[str, Any]:
    notes = f"{f.classification.value}{', masked' if f.classification.masked_by_default else ''}"
    return {"id": f.name, "type": CKAN_TYPES.get(f.type, "text"), "info": {"label": f.title, "notes": notes}}


def _links(resource_id: str, limit: int, offset: int) -> dict[str, str]:
    base = "/api/3/action/datastore_search?"
    return {
        "start": base + urlencode({"resource_id": resource_id, "limit": limit}),
        "next": base + urlencode({"resource_id": resource_id, "limit": limit, "offset": offset + limit}),
    }


@action("datastore_search")
def datastore_search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Records of a dataset's resource (``resource_id``), masked by classification: ``filters`` (JSON
    object on unmasked fields), ``q`` (text in unmasked fields), ``fields``, ``sort``, ``limit``
    (default 100, max 1000), ``offset``, ``include_total``. Needs an API key."""
    permissions.require_key(ctx.caller, "read records")
    resource_id = str(required(params, "resource_id"))
    try:
        res = lookup.resource(ctx.session, resource_id)
    except NotFound:
        raise ActionError(404, "Not Found Error", f'Resource "{resource_id}" was not found.') from None
    ds = res.dataset
    if not ctx.visible(ds):
        raise ActionError(403, "Authorization Error", f"User not authorized to read resource {resource_id}")
    if not (ds.from_contract and res.generated and ds.versions):
        raise ActionError(404, "Not Found Error", f'Resource "{resource_id}" was not found.')
    contract = ctx.contracts.get(ds.key)
    chosen = records._selected(contract, _field_names(params.get("fields")))
    where, values = _filters(contract, params.get("filters"))
    text, text_values = _text_search(contract, params.get("q"))
    limit = as_int(params, "limit", LIMIT_DEFAULT, maximum=LIMIT_MAX)
    offset = as_int(params, "offset", 0)
    order = _sort(contract, params.get("sort"))
    _, cur = ctx.store.cursor(ds.key)
    condition = " AND ".join(where + text) or "TRUE"
    columns = ", ".join([f"{quote(ROW)} AS _id", *[select_expression(f) for f in chosen]])
    sql = f"SELECT {columns} FROM {TABLE} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?"
    rows = cur.execute(sql, [*values, *text_values, limit, offset]).fetchall()
    names = ["_id", *[f.name for f in chosen]]
    out: dict[str, Any] = {
        "resource_id": resource_id,
        "fields": [{"id": "_id", "type": "int"}, *[_field_info(f) for f in chosen]],
        "records": [dict(zip(names, r, strict=True)) for r in rows],
        "limit": limit,
        "offset": offset,
        "_links": _links(resource_id, limit, offset),
    }
    if as_bool(params.get("include_total"), default=True):
        count_sql = f"SELECT count(*) FROM {TABLE} WHERE {condition}"
        out["total"] = cur.execute(count_sql, [*values, *text_values]).fetchone()[0]
        out["total_was_estimated"] = False
    return out
