"""DCAT endpoints, as ckanext-dcat serves them: ``/catalog.{ttl,jsonld,xml,rdf,nt}`` (paged, with
``modified_since``) and ``/dataset/{id}.{format}``. Anonymous callers see public datasets only."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import dcat, permissions, service
from catalog.models import ApiClient, Dataset
from exchange_api.deps import get_session, get_settings, optional_client
from hub.errors import InputError, NotAuthorized, NotFound
from hub.settings import Settings

router = APIRouter(tags=["dcat"])
PAGE_SIZE = 100


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


@router.get("/catalog.{fmt}", summary="The catalogue as DCAT-AP (Turtle, JSON-LD, RDF/XML, N-Triples)")
def catalog(
    fmt: str,
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
    builder = dcat.Builder(settings.base_url)
    url = f"{settings.base_url}/catalog.{fmt}"
    builder.catalog(settings.site_title, chosen, dcat.Page(page, PAGE_SIZE, len(datasets), url))
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)


@router.get("/dataset/{ref}.{fmt}", summary="One dataset as DCAT-AP")
def dataset(
    ref: str,
    fmt: str,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = _format(fmt)
    ds = service.dataset(s, ref)
    if not permissions.can_read(caller, ds):
        raise NotAuthorized(f"dataset {ds.name} is not open: send an API key to read its metadata")
    builder = dcat.Builder(settings.base_url)
    builder.dataset(ds)
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)
