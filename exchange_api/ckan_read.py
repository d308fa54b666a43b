"""Read-only CKAN actions: GET or POST, anonymous callers see public datasets only."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from catalog import activity, licences, lookup, permissions, search
from catalog.ckan import (
    activity_dict,
    group_dict,
    organization_dict,
    resource_dict,
    user_dict,
)
from catalog.models import ApiClient, Dataset, Group, Organization
from exchange_api.ckan_actions import (
    ACTIONS,
    ActionError,
    Context,
    action,
    as_bool,
    as_int,
    as_json,
    package,
    packages,
    required,
    visible_dataset,
)
from hub import limits

CKAN_VERSION = "2.11.0"


@action("site_read")
def site_read(ctx: Context, params: dict[str, Any]) -> bool:
    """Whether the site can be read: always true."""
    return True


@action("status_show")
def status_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Site title, URL, CKAN API version emulated and extensions."""
    return {
        "site_title": ctx.settings.site_title,
        "site_description": "东城区人口、法人、经济、建筑、空间基础数据的共享交换平台",
        "site_url": ctx.settings.base_url,
        "ckan_version": CKAN_VERSION,
        "locale_default": "zh_Hans_CN",
        "extensions": ["hub", "datastore", "dcat", "activity"],
    }


@action("help_show")
def help_show(ctx: Context, params: dict[str, Any]) -> str:
    """The documentation of an action: ``name``."""
    name = str(required(params, "name"))
    if name not in ACTIONS:
        raise ActionError(404, "Not Found Error", f"Action not found: {name}")
    return ACTIONS[name].doc


def _listed(ctx: Context, params: dict[str, Any]) -> list[Dataset]:
    """Active datasets the caller may see; ``include_private=false`` leaves private ones out."""
    include_private = as_bool(params.get("include_private"), default=True)
    rows = ctx.session.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name))
    return [d for d in rows if ctx.visible(d) and (include_private or not d.private)]


@action("package_list")
def package_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    """Names of the datasets the caller can see; ``limit`` and ``offset`` page through them."""
    names = [d.name for d in _listed(ctx, params)]
    offset = as_int(params, "offset", 0)
    limit = as_int(params, "limit", 0)
    return names[offset : offset + limit] if limit else names[offset:]


@action("current_package_list_with_resources")
def current_package_list_with_resources(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Datasets with their resources, most recently modified first; ``limit``, ``offset``."""
    rows = sorted(_listed(ctx, params), key=lambda d: d.modified, reverse=True)
    offset, limit = as_int(params, "offset", 0), as_int(params, "limit", 0)
    rows = rows[offset : offset + limit] if limit else rows[offset:]
    return packages(ctx, rows)


@action("package_show")
def package_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One dataset by ``id`` or ``name`` (the contract id, e.g. population.residents, works too)."""
    return package(ctx, visible_dataset(ctx, required(params, "id")))


def _search_facets(ctx: Context, result: search.Result, query: search.Query) -> dict[str, Any]:
    titles: dict[str, dict[str, str]] = {
        "organization": {o.name: o.title for o in ctx.session.scalars(select(Organization))},
        "groups": {g.name: g.title for g in ctx.session.scalars(select(Group))},
    }
    out: dict[str, Any] = {}
    for name in query.facet_fields:
        counts = [(v, c) for v, c in _ordered(result.facets[name]) if c >= query.facet_mincount]
        if query.facet_limit >= 0:
            counts = counts[: query.facet_limit]
        items = [{"name": v, "display_name": titles.get(name, {}).get(v, v), "count": c} for v, c in counts]
        out[name] = {"title": name, "items": items}
    return out


def _ordered(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))


@action("package_search")
def package_search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Search datasets: ``q`` (free text, Chinese substrings, pinyin such as renkou or rk; with a
    ``field:`` it is Solr syntax), ``fq``/``fq_list`` (Solr syntax: ``organization:a OR
    organization:b``, ``-groups:x``, ``metadata_modified:[2024-01-01T00:00:00Z TO *]``,
    ``num_resources:[2 TO *]``, ``tags:(a OR b)``, ``NOW-1DAY`` …), ``facet.field`` (JSON list),
    ``facet.limit``, ``facet.mincount``, ``sort`` (``score desc, metadata_modified desc``; also id,
    name, title, metadata_created, resource_code), ``rows`` (default 10, max 1000), ``start``,
    ``include_private`` (default true: private datasets show to identified callers only)."""
    params = {**params, "facet.field": as_json(params.get("facet.field")), "fq_list": as_json(params.get("fq_list"))}
    query = search.build_query(params)
    include_private = as_bool(params.get("include_private"), default=True)
    result = search.run(ctx.session, query, lambda d: ctx.visible(d) and (include_private or not d.private))
    search_facets = _search_facets(ctx, result, query)
    return {
        "count": result.count,
        "results": packages(ctx, result.datasets),
        "sort": ", ".join(f"{n} {'desc' if d else 'asc'}" for n, d in query.sort),
        "facets": {k: {i["name"]: i["count"] for i in v["items"]} for k, v in search_facets.items()},
        "search_facets": search_facets,
    }


@action("resource_show")
def resource_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One resource by ``id``."""
    res = lookup.resource(ctx.session, str(required(params, "id")))
    visible_dataset(ctx, res.dataset_id)
    return resource_dict(res, ctx.settings.base_url)


def _counts(ctx: Context) -> tuple[Counter[str], Counter[str]]:
    by_org: Counter[str] = Counter()
    by_group: Counter[str] = Counter()
    for ds in ctx.session.scalars(select(Dataset).where(Dataset.state == "active")):
        if ctx.visible(ds):
            by_org[ds.organization_id] += 1
            by_group.update(g.id for g in ds.groups)
    return by_org, by_group


def _page(items: list[Any], params: dict[str, Any]) -> list[Any]:
    offset, limit = as_int(params, "offset", 0), as_int(params, "limit", 0)
    return items[offset : offset + limit] if limit else items[offset:]


def _with_datasets(ctx: Context, params: dict[str, Any], members: list[Any], describe: Any) -> dict[str, Any]:
    """An organization or group dict counting the datasets the caller can see (listed on request)."""
    datasets = sorted((d for d in members if ctx.visible(d)), key=lambda d: d.name)
    out: dict[str, Any] = describe(len(datasets))
    out["users"] = []
    if as_bool(params.get("include_datasets")):
        out["packages"] = packages(ctx, datasets)
    return out


@action("organization_list")
def organization_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """Departments; ``all_fields=true`` returns dictionaries with package counts; ``limit``, ``offset``."""
    orgs = _page(list(ctx.session.scalars(select(Organization).order_by(Organization.name))), params)
    if not as_bool(params.get("all_fields")):
        return [o.name for o in orgs]
    counts = _counts(ctx)[0]
    return [organization_dict(o, package_count=counts.get(o.id, 0)) for o in orgs]


@action("organization_show")
def organization_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A department by ``id`` or name; ``include_datasets=true`` lists its datasets the caller can see."""
    org = lookup.organization(ctx.session, str(required(params, "id")))
    return _with_datasets(ctx, params, org.datasets, lambda n: organization_dict(org, package_count=n))


@action("group_list")
def group_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """The five base-data domains and the themes; ``all_fields=true`` for dictionaries with counts."""
    groups = _page(list(ctx.session.scalars(select(Group).order_by(Group.name))), params)
    if not as_bool(params.get("all_fields")):
        return [g.name for g in groups]
    counts = _counts(ctx)[1]
    return [group_dict(g, package_count=counts.get(g.id, 0)) for g in groups]


@action("group_show")
def group_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A group by ``id`` or name; ``include_datasets=true`` lists its datasets the caller can see."""
    group = lookup.group(ctx.session, str(required(params, "id")))
    return _with_datasets(ctx, params, group.datasets, lambda n: group_dict(group, package_count=n))


@action("tag_list")
def tag_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """Tags of the datasets the caller can see; ``query`` keeps tags containing it; ``all_fields``."""
    rows = ctx.session.scalars(select(Dataset).where(Dataset.state == "active"))
    tags = sorted({t for d in rows if ctx.visible(d) for t in d.tags})
    needle = limits.bounded_text(params.get("query"), "query", maximum=limits.MAX_TEXT_CHARS).lower()
    tags = [t for t in tags if needle in t.lower()]
    if as_bool(params.get("all_fields")):
        return [{"id": t, "name": t, "display_name": t, "vocabulary_id": None} for t in tags]
    return tags


@action("license_list")
def license_list(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The licences datasets can carry: CC BY 4.0 and the government data-sharing agreement."""
    return [licence.ckan(ctx.settings.base_url) for licence in licences.LICENCES]


def _created_by(ctx: Context, client: ApiClient) -> int:
    from catalog.models import Activity

    rows = ctx.session.scalars(
        select(Activity.object_id).where(Activity.user_id == client.id, Activity.activity_type == activity.NEW)
    )
    return len(set(rows))


@action("user_show")
def user_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A client (CKAN user) by ``id`` or name; without ``id``, the caller. Stewards see anyone.

    Anyone else asking for another name gets one refusal whether or not the name exists, so the
    action cannot be used to learn which client names exist."""
    caller = permissions.require_key(ctx.caller, "see users")
    ref = params.get("id")
    if ref in (None, "") or str(ref) in (caller.id, caller.name):
        client = caller
    else:
        permissions.require_steward(caller, "see other users")
        client = lookup.user(ctx.session, str(ref))
    return user_dict(client, package_count=_created_by(ctx, client))


@action("user_list")
def user_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """All clients (stewards only); ``all_fields=false`` for names only."""
    permissions.require_steward(ctx.caller, "list users")
    users = list(ctx.session.scalars(select(ApiClient).order_by(ApiClient.name)))
    if not as_bool(params.get("all_fields"), default=True):
        return [u.name for u in users]
    return [user_dict(u) for u in users]


@action("package_activity_list")
def package_activity_list(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes to a dataset, newest first: ``id``, ``offset``, ``limit`` (default 31, max 100)."""
    ds = visible_dataset(ctx, required(params, "id"))
    rows = activity.for_dataset(
        ctx.session, ds, offset=as_int(params, "offset", 0), limit=as_int(params, "limit", 31, maximum=100)
    )
    return [activity_dict(r) for r in rows]
