"""DCAT-AP output parsed back with rdflib: classes, required properties, national elements, access."""

from __future__ import annotations

from collections.abc import Iterator

import ckanapi
import httpx
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from tests.catalog.sites import Site, site

# plain namespaces: rdflib's closed ones warn when pytest inspects module attributes
CSVW = Namespace("http://www.w3.org/ns/csvw#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
PARSERS = {"ttl": "turtle", "jsonld": "json-ld", "xml": "xml", "nt": "nt"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("dcat"), rows=20) as s:
        ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"]).action.package_create(
            name="street-offices",
            title="街道办事处名录",
            owner_org="dept-11010100001",
            open_type="无条件开放",
            update_frequency="yearly",
            groups=[{"name": "spatial"}],
            resources=[{"name": "CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        yield s


def _graph(hub: Site, path: str, fmt: str, key: str | None = None) -> Graph:
    response = httpx.get(hub.url + path, headers={"X-API-Key": key} if key else {})
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=PARSERS[fmt])


def _datasets(g: Graph) -> dict[str, URIRef]:
    """Datasets (not their versions) by Chinese title."""
    found = {}
    for d in g.subjects(RDF.type, DCAT.Dataset):
        if g.value(d, DCTERMS.isVersionOf) is None:
            titles = [t for t in g.objects(d, DCTERMS.title) if getattr(t, "language", None) == "zh"]
            found[str(titles[0])] = d
    return found


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "xml", "nt"])
def test_catalog_parses_in_every_format_with_the_required_classes(hub: Site, fmt: str) -> None:
    g = _graph(hub, f"/catalog.{fmt}", fmt, hub.keys["consumer"])
    catalog = g.value(predicate=RDF.type, object=DCAT.Catalog)
    assert catalog is not None
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert g.value(catalog, prop) is not None, prop
    members = set(g.objects(catalog, DCAT.dataset))
    assert members == set(_datasets(g).values()) and len(members) == 2
    for cls in (DCAT.Distribution, DCAT.DataService, FOAF.Agent, SKOS.Concept, VCARD.Organization, CSVW.Schema):
        assert any(g.subjects(RDF.type, cls)), cls
    for ds in members:
        assert (ds, RDF.type, DCAT.Dataset) in g
        for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCAT.contactPoint, DCTERMS.identifier):
            assert g.value(ds, prop) is not None, prop
        for dist in g.objects(ds, DCAT.distribution):
            assert g.value(dist, DCAT.accessURL) is not None


def test_dataset_properties_and_national_elements(hub: Site) -> None:
    g = _graph(hub, "/dataset/population-residents.ttl", "ttl", hub.keys["consumer"])
    ds = _datasets(g)["常住人口"]
    hub_ns = Namespace(hub.url + "/ns/catalogue#")
    assert Literal("Resident population of Dongcheng", lang="en") in set(g.objects(ds, DCTERMS.title))
    assert g.value(ds, DCTERMS.identifier) == Literal("101/000001")
    assert g.value(ds, hub_ns.resourceCode) == Literal("101/000001")
    assert g.value(ds, hub_ns.sharingType) == Literal("有条件共享", lang="zh")
    assert g.value(ds, hub_ns.openType) == Literal("不予开放", lang="zh")
    assert g.value(ds, hub_ns.updateFrequency) == Literal("每月", lang="zh")
    eu = "http://publications.europa.eu/resource/authority/"
    assert g.value(ds, DCTERMS.accrualPeriodicity) == URIRef(eu + "frequency/MONTHLY")
    assert g.value(ds, DCTERMS.accessRights) == URIRef(eu + "access-right/NON_PUBLIC")
    assert {str(k) for k in g.objects(ds, DCAT.keyword)} == {"人口", "常住人口", "population", "residents"}
    assert URIRef(hub.url + "/group/population") in set(g.objects(ds, DCAT.theme))
    publisher = g.value(ds, DCTERMS.publisher)
    assert g.value(publisher, FOAF.name, any=True) is not None and g.value(publisher, DCTERMS.identifier) == Literal(
        "11010100001"
    )
    formats = {str(g.value(d, DCTERMS["format"])) for d in g.objects(ds, DCAT.distribution)}
    assert formats == {eu + "file-type/JSON", eu + "file-type/PARQUET"}
    columns = {str(g.value(c, CSVW.name)) for c in g.objects(g.value(ds, CSVW.tableSchema), CSVW.column)}
    assert {"id_number", "street_code"} <= columns
    version = g.value(ds, DCAT.hasVersion)
    assert g.value(version, DCAT.version) == Literal("1")
    measures = {int(g.value(m, DQV.value)) for m in g.objects(version, DQV.hasQualityMeasurement)}
    assert measures == {20, 0}
    jsonld = _graph(hub, "/dataset/population.residents.jsonld", "jsonld", hub.keys["consumer"])
    assert len(jsonld) == len(g)


def test_private_datasets_stay_out_of_anonymous_dcat(hub: Site) -> None:
    g = _graph(hub, "/catalog.ttl", "ttl")
    assert set(_datasets(g)) == {"街道办事处名录"}
    assert httpx.get(hub.url + "/dataset/population-residents.ttl").status_code == 401
    public = _graph(hub, "/dataset/street-offices.ttl", "ttl")
    ds = _datasets(public)["街道办事处名录"]
    eu = "http://publications.europa.eu/resource/authority/"
    assert public.value(ds, DCTERMS.accessRights) == URIRef(eu + "access-right/PUBLIC")
    assert public.value(ds, DCTERMS.accrualPeriodicity) == URIRef(eu + "frequency/ANNUAL")


def test_paging_modified_since_and_unknown_format(hub: Site) -> None:
    g = _graph(hub, "/catalog.ttl?modified_since=2999-01-01", "ttl", hub.keys["consumer"])
    assert _datasets(g) == {}
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    page = _graph(hub, "/catalog.ttl?page=1", "ttl", hub.keys["consumer"])
    assert [int(n) for n in page.objects(None, hydra.totalItems)] == [2]
    assert httpx.get(hub.url + "/catalog.docx").status_code == 404
    assert httpx.get(hub.url + "/dataset/nothing.ttl").status_code == 404
