"""DCAT endpoints, as ckanext-dcat serves them: ``/catalog.{ttl,jsonld,xml,rdf,nt}`` (paged, with
``modified_since``) and ``/dataset/{id}.{format}``. Anonymous callers see public datasets only,
and nothing of the private ones: not their ids, names or snapshots in a public dataset's lineage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import dcat, permissions, service
from catalog.models import ApiClient, Dataset
from exchange_api.deps import get_session, get_settings, optional_client
from hub.errors import InputError, NotAuthorized, NotFound
from hub.settings import Settings

router = APIRouter(tags=["dcat"])
PAGE_SIZE = 100
RDF_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "DCAT-AP in the format the path names",
        "content": {media: {} for _, media in dict.fromkeys(dcat.FORMATS.values())},
    }
}


FORMAT = Path(
    description="ttl (Turtle), jsonld (JSON-LD), xml or rdf (RDF/XML), nt (N-Triples)",
    json_schema_extra={"enum": list(dcat.FORMATS)},
)
"""Documented as an enumeration; any other value is answered 404, as CKAN's DCAT does."""


def _format(fmt: str) -> str:
    if fmt not in dcat.FORMATS:
        raise NotFound(f"unknown RDF format {fmt!r}; use one of {', '.join(dcat.FORMATS)}")
    return fmt


def _since(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        since = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"modified_since {value!r} is not an ISO date or date-time", rule="modified_since") from None
    return since if since.tzinfo else since.replace(tzinfo=dt.UTC)


def _modified_after(ds: Dataset, since: dt.datetime) -> bool:
    modified = ds.modified if ds.modified.tzinfo else ds.modified.replace(tzinfo=dt.UTC)
    return modified >= since


@router.get(
    "/catalog.{fmt}",
    summary="The catalogue as DCAT-AP (Turtle, JSON-LD, RDF/XML, N-Triples)",
    response_class=Response,
    responses=RDF_ANSWER,
)
def catalog(
    fmt: str = FORMAT,
    page: int = Query(1, ge=1, description="Page of 100 datasets."),
    modified_since: str | None = Query(None, description="Only datasets modified since (ISO date)."),
    caller: ApiClient | None = Depends(optional_client),
    s: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = _format(fmt)
    since = _since(modified_since)
    rows = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name))
    datasets = [d for d in rows if permissions.can_read(caller, d) and (since is None or _modified_after(d, since))]
    chosen = datasets[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    builder = dcat.Builder(settings.base_url, withheld=dcat.withheld_from(s, caller))
    url = f"{settings.base_url}/catalog.{fmt}"
    builder.catalog(settings.site_title, chosen, dcat.Page(page, PAGE_SIZE, len(datasets), url))
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)


@router.get("/dataset/{ref}.{fmt}", summary="One dataset as DCAT-AP", response_class=Response, responses=RDF_ANSWER)
def dataset(
    ref: str,
    fmt: str = FORMAT,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = _format(fmt)
    ds = service.dataset(s, ref)
    if not permissions.can_read(caller, ds):  # named as the caller named it: an id never yields a name
        raise NotAuthorized(f"dataset {ref!r} is not open: send an API key to read its metadata")
    builder = dcat.Builder(settings.base_url, withheld=dcat.withheld_from(s, caller))
    builder.dataset(ds)
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)
