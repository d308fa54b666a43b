"""DCAT endpoints, as ckanext-dcat serves them: ``/catalog.{ttl,jsonld,xml,rdf,nt}`` (paged, with
``modified_since``) and ``/dataset/{id}.{format}``. Anonymous callers see public datasets only,
and nothing of the private ones: not their ids, names or snapshots in a public dataset's lineage.

Every URI the DCAT output mints answers here with content negotiation (``Accept``: Turtle,
JSON-LD, RDF/XML, N-Triples, or an HTML page, the default): ``/catalog``, ``/dataset/{id}``,
``/dataset/{id}/resource/{rid}``, ``/organization/{id}``, ``/group/{name}``, ``/licence/{id}``
and ``/ns/catalogue`` (the ``hub:`` terms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from rdflib import URIRef
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from catalog import dcat, dcat_html, licences, permissions, service
from catalog.models import ApiClient, Dataset, Group, Organization
from exchange_api.deps import SESSION, get_settings, optional_client
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


NEGOTIATED = {
    "text/turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
    "application/json": "jsonld",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
ACCEPT = Header(
    None,
    description="text/turtle, application/ld+json, application/rdf+xml, application/n-triples or text/html "
    "(the default).",
)
NEGOTIATED_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The resource, in the format the Accept header asks for",
        "content": {media: {} for _, media in dcat.FORMATS.values()} | {"text/html": {}},
    },
    406: {"description": "None of the accepted media types is offered"},
}


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
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = _format(fmt)
    builder = _catalog(page, modified_since, caller, s, settings, f"{settings.base_url}/catalog.{fmt}")
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)


def _catalog(
    page: int, modified_since: str | None, caller: ApiClient | None, s: Session, settings: Settings, url: str
) -> dcat.Builder:
    since = _since(modified_since)
    rows = s.scalars(select(Dataset).where(Dataset.state == "active").order_by(Dataset.name))
    datasets = [d for d in rows if permissions.can_read(caller, d) and (since is None or _modified_after(d, since))]
    chosen = datasets[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    builder = dcat.Builder(settings.base_url, withheld=dcat.withheld_from(s, caller))
    builder.catalog(settings.site_title, chosen, dcat.Page(page, PAGE_SIZE, len(datasets), url))
    return builder


@router.get("/dataset/{ref}.{fmt}", summary="One dataset as DCAT-AP", response_class=Response, responses=RDF_ANSWER)
def dataset(
    ref: str,
    fmt: str = FORMAT,
    accept: str | None = ACCEPT,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    if fmt not in dcat.FORMATS:  # a contract id (population.residents) without an extension
        try:
            ds = service.dataset(s, f"{ref}.{fmt}")
        except NotFound:
            _format(fmt)
            raise
        return _dataset_answer(ds, None, accept, caller, s, settings)
    ds = _readable(s, ref, caller)
    builder = dcat.Builder(settings.base_url, withheld=dcat.withheld_from(s, caller))
    builder.dataset(ds)
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media)


def _readable(s: Session, ref: str, caller: ApiClient | None) -> Dataset:
    """The dataset as the catalogue shows it to ``caller`` (package_show's rule: private ones to
    identified callers only)."""
    ds = service.dataset(s, ref)
    if not permissions.can_read(caller, ds):  # named as the caller named it: an id never yields a name
        raise NotAuthorized(f"dataset {ref!r} is not open: send an API key to read its metadata")
    return ds


def negotiate(accept: str | None) -> str:
    """The format to answer with: the offered media type with the highest q in ``Accept`` (HTML
    for ``*/*``, ``text/*`` or no header; JSON-LD for ``application/*``)."""
    if not accept or not accept.strip():
        return "html"
    choices = []
    for pos, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        choices.append((-q, pos, media.lower()))
    for neg_q, _, media in sorted(choices):
        if neg_q >= 0:
            break
        if media in NEGOTIATED:
            return NEGOTIATED[media]
        if media in ("*/*", "text/*"):
            return "html"
        if media == "application/*":
            return "jsonld"
    raise HTTPException(406, f"offered: {', '.join(NEGOTIATED)}")


def _answer(builder: dcat.Builder, subject: URIRef, document: str | None, fmt: str) -> Response:
    """``document``: the URL whose ``.{fmt}`` forms exist (None: only the negotiated URL)."""
    headers = {"Vary": "Accept"}
    if fmt == "html":
        forms = {media: ext for ext, (_, media) in dcat.FORMATS.items() if ext != "rdf"}
        alternates = {media: f"{document}.{ext}" if document else str(subject) for media, ext in forms.items()}
        body = dcat_html.page(builder.g, subject, alternates).encode("utf-8")
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
    body, media = dcat.serialize(builder.g, fmt)
    return Response(body, media_type=media, headers=headers)


def _dataset_answer(
    ds: Dataset, resource_id: str | None, accept: str | None, caller: ApiClient | None, s: Session, settings: Settings
) -> Response:
    fmt = negotiate(accept)
    if not permissions.can_read(caller, ds):
        raise NotAuthorized("this dataset is not open: send an API key to read its metadata")
    builder = dcat.Builder(settings.base_url, withheld=dcat.withheld_from(s, caller))
    subject = builder.dataset(ds)
    if resource_id is not None:
        res = next((r for r in ds.resources if r.id == resource_id), None)
        if res is None:
            raise NotFound(f"resource {resource_id!r} not found in this dataset")
        subject = builder.distribution_uri(ds, res)
    return _answer(builder, subject, str(builder.dataset_uri(ds)), fmt)


@router.get(
    "/catalog", summary="The catalogue (content negotiation)", response_class=Response, responses=NEGOTIATED_ANSWER
)
def catalog_negotiated(
    page: int = Query(1, ge=1, description="Page of 100 datasets."),
    modified_since: str | None = Query(None, description="Only datasets modified since (ISO date)."),
    accept: str | None = ACCEPT,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = negotiate(accept)
    builder = _catalog(page, modified_since, caller, s, settings, f"{settings.base_url}/catalog")
    return _answer(builder, builder.catalog_uri(), f"{settings.base_url}/catalog", fmt)


@router.get(
    "/dataset/{ref}",
    summary="A dataset: its landing page and DCAT-AP (content negotiation)",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def dataset_negotiated(
    ref: str,
    accept: str | None = ACCEPT,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    negotiate(accept)
    return _dataset_answer(_readable(s, ref, caller), None, accept, caller, s, settings)


@router.get(
    "/dataset/{ref}/resource/{resource_id}",
    summary="A distribution of a dataset (content negotiation)",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def distribution_negotiated(
    ref: str,
    resource_id: str,
    accept: str | None = ACCEPT,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    negotiate(accept)
    return _dataset_answer(_readable(s, ref, caller), resource_id, accept, caller, s, settings)


@router.get(
    "/organization/{ref}",
    summary="A department, publisher of datasets (content negotiation)",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def organization_negotiated(
    ref: str,
    accept: str | None = ACCEPT,
    _caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = negotiate(accept)
    builder = dcat.Builder(settings.base_url, withheld=dcat.Withheld())
    if ref == dcat.HUB_AGENT:
        subject = builder.hub_agent()
    else:
        org = s.scalar(select(Organization).where((Organization.id == ref) | (Organization.name == ref)))
        if org is None:
            raise NotFound(f"organization {ref!r} not found")
        subject = builder.agent(org)
    return _answer(builder, subject, None, fmt)


@router.get(
    "/group/{name}",
    summary="A domain or theme of the catalogue (content negotiation)",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def group_negotiated(
    name: str,
    accept: str | None = ACCEPT,
    _caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = negotiate(accept)
    group = s.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise NotFound(f"group {name!r} not found")
    builder = dcat.Builder(settings.base_url, withheld=dcat.Withheld())
    subject = builder.theme(group)
    return _answer(builder, subject, None, fmt)


@router.get(
    "/licence/{licence_id}",
    summary="A licence datasets carry, with its terms (content negotiation)",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def licence_negotiated(
    licence_id: str,
    accept: str | None = ACCEPT,
    _caller: ApiClient | None = Depends(optional_client),
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = negotiate(accept)
    licence = licences.by_id(licence_id)
    if licence is None:
        raise NotFound(f"licence {licence_id!r} not found; known: {', '.join(lic.id for lic in licences.LICENCES)}")
    builder = dcat.Builder(settings.base_url, withheld=dcat.Withheld())
    subject = builder.licence(licence)
    return _answer(builder, subject, None, fmt)


@router.get(
    "/ns/catalogue",
    summary="The catalogue's own terms (hub:), content negotiation",
    response_class=Response,
    responses=NEGOTIATED_ANSWER,
)
def vocabulary_negotiated(
    accept: str | None = ACCEPT,
    _caller: ApiClient | None = Depends(optional_client),
    settings: Settings = Depends(get_settings),
) -> Response:
    fmt = negotiate(accept)
    builder = dcat.Builder(settings.base_url, withheld=dcat.Withheld())
    subject = builder.vocabulary()
    return _answer(builder, subject, None, fmt)
