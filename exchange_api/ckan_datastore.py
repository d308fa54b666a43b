"""datastore_search over the warehouse: the dataset's serving copy, released exactly as the records API.

The caller's policy (``access.policy``) decides the fields and their masks, and the one shared
query (``access.query``) applies filters, text search and sort on clear fields only: both paths
out of the hub apply one policy.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from access import audit, gate, grants
from access.policy import Column, policy_for
from access.query import Direction, PageQuery
from catalog import lookup
from exchange_api import records
from exchange_api.ckan_actions import ActionError, Context, action, as_bool, as_int, as_json, required
from hub import limits
from hub.errors import InputError, NotFound

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


def _filters(value: Any) -> dict[str, str]:
    value = as_json(value) or {}
    if not isinstance(value, dict):
        raise ActionError(409, "Validation Error", fields={"filters": ["Not a json object"]})
    scalar = {}
    for key, item in value.items():
        if isinstance(item, list | dict):
            raise ActionError(409, "Validation Error", fields={"filters": [f"filter {key!r}: give one value"]})
        scalar[str(key)] = str(item)
    return scalar


def _text(q: Any) -> str | None:
    """``q``: rows where any clear text field contains it (masked fields are never searched)."""
    if q in (None, ""):
        return None
    if not isinstance(q, str):
        raise ActionError(409, "Validation Error", fields={"q": ["give q as a string"]})
    return limits.bounded_text(q, "q", maximum=limits.MAX_TEXT_CHARS)


def _sort(value: Any) -> list[tuple[str, Direction]]:
    """CKAN's ``sort``: ``field [asc|desc], ...``; ``_id`` is the row order, the default."""
    order = []
    for part in limits.bounded_text(value or "", "sort", maximum=limits.MAX_SORT_CHARS).split(","):
        bits = part.split()
        if not bits:
            continue
        name, direction = bits[0].strip('"'), (bits[1].upper() if len(bits) > 1 else "ASC")
        if direction not in ("ASC", "DESC") or len(bits) > 2:
            raise InputError(f"cannot sort by {part.strip()!r}", rule="sort")
        if name != "_id":
            order.append((name, Direction(direction)))
    return order


def _field_info(c: Column) -> dict[str, Any]:
    notes = f"{c.field.classification.value}{', masked: ' + c.release if c.masked else ''}"
    return {"id": c.name, "type": CKAN_TYPES.get(c.type, "text"), "info": {"label": c.field.title, "notes": notes}}


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
    (default 100, max 1000), ``offset``, ``include_total``. Needs an API key, except on datasets
    open to the public (无条件开放 and 无条件共享: ``access.policy.open_to_public``)."""
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
    policy = policy_for(ctx.caller, ds, ctx.contracts.get(ds.key), grants.active(ctx.session, ctx.caller, ds.key))
    chosen = policy.select(records.field_names(_field_names(params.get("fields"))))
    limit = as_int(params, "limit", LIMIT_DEFAULT, maximum=LIMIT_MAX)
    offset = as_int(params, "offset", 0)
    query = PageQuery(
        policy,
        chosen,
        filters=_filters(params.get("filters")),
        text=_text(params.get("q")),
        order=_sort(params.get("sort")),
        limit=limit,
        offset=offset,
    )
    head, cur = ctx.store.cursor(ds.key)
    rows = query.rows(cur, ctx.store.last_row(head.path, cur), ctx.store.rows(head.path))
    event = audit.served(
        "datastore_search",
        ctx.caller,
        policy,
        chosen,
        len(rows),
        version=head.version,
        snapshot_id=head.snapshot_id,
        request_id=ctx.request_id,
        query=json.dumps(params, sort_keys=True, default=str),
    )
    gate.release(ctx.session, ctx.settings, ctx.caller, policy, event)
    names = ["_id", *[c.name for c in chosen]]
    out: dict[str, Any] = {
        "resource_id": resource_id,
        "fields": [{"id": "_id", "type": "int"}, *[_field_info(c) for c in chosen]],
        "records": [dict(zip(names, r, strict=True)) for r in rows],
        "limit": limit,
        "offset": offset,
        "_links": _links(resource_id, limit, offset),
    }
    if as_bool(params.get("include_total"), default=True):
        count_sql, count_values = query.count_sql()
        (out["total"],) = cur.execute(count_sql, count_values).fetchall()[0]
        out["total_was_estimated"] = False
    return out
