"""DCAT-AP 3: the hub's DCAT validates against SEMIC's DCAT-AP 3.0.1 SHACL shapes (vendored in
tests/shapes/) with pyshacl, every hub URI it mints dereferences with content negotiation,
distributions link to routes that answer, and licences are mapped and inherited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from catalog import db, licences, service
from contracts import model
from generator import grids
from hub.errors import InputError
from ingest import steps
from tests.catalog.sites import Site, site

SHAPES = Path(__file__).parents[1] / "shapes" / "dcat-ap-3.0.1"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")
PARSERS = {"ttl": "turtle", "jsonld": "json-ld", "xml": "xml", "rdf": "xml", "nt": "nt"}
ACCEPTS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "text/html": None}
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
CONTRACT_LICENCES = {  # every contract → the licence its dataset carries (derived: inherited)
    "buildings.buildings": "gov-sharing",
    "economy.street_indicators": "cc-by",
    "economy.tax_monthly": "gov-sharing",
    "legal_entity.enterprises": "gov-sharing",
    "population.households": "gov-sharing",
    "population.residents": "gov-sharing",
    "spatial.grids": "cc-by",
    "spatial.pois": "cc-by",
    "derived.entity_location": "gov-sharing",
    "derived.building_economy": "gov-sharing",
    "derived.grid_statistics": "gov-sharing",
    "derived.indicator_alerts": "cc-by",
}


@pytest.fixture(scope="module")
def shapes() -> Graph:
    graph = Graph()
    for path in sorted(SHAPES.glob("*.ttl")):
        graph.parse(path, format="turtle")
    assert len(graph) > 500
    return graph


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The residents (有条件共享, private) and grids (CC BY) published, every other contract
    registered, and a public catalogue-only dataset with a title that needs escaping."""
    with site(tmp_path_factory.mktemp("dcat-ap"), rows=20) as s:
        grids.export(steps.inbox_folder(s.settings, model.find(s.settings.contracts_dir, grids.DATASET)) / "g.geojson")
        for file in steps.discover(grids.DATASET, s.settings):
            steps.check(grids.DATASET, file, s.settings, today=dt.date(2026, 11, 1))
        steps.register(grids.DATASET, steps.publish(grids.DATASET, s.settings), s.settings)
        with db.session(s.settings.db_url) as session:
            for contract in model.load_all(s.settings.contracts_dir):
                service.register_dataset(session, contract)
        ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"]).action.package_create(
            name="street-offices",
            title="街道办事处名录 <script>alert(1)</script>",
            notes="各街道办事处地址与电话。Street offices & their phones.",
            owner_org="dept-11010100001",
            open_type="无条件开放",
            update_frequency="yearly",
            license_id="cc-by",
            groups=[{"name": "spatial"}],
            resources=[{"name": "CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        yield s


def _get(hub: Site, url: str, accept: str | None = None, key: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    if key:
        headers["X-API-Key"] = key
    return httpx.get(url if "://" in url else hub.url + url, headers=headers, timeout=60)


def _graph(hub: Site, path: str, fmt: str, key: str | None) -> Graph:
    answer = _get(hub, path, key=key)
    assert answer.status_code == 200, answer.text[:300]
    return Graph().parse(data=answer.content, format=PARSERS[fmt])


def _violations(data: Graph, shapes: Graph) -> list[str]:
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=False)
    results = list(report.subjects(RDF.type, SH.ValidationResult))
    messages = [
        f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)}: {report.value(r, SH.resultMessage)}"
        for r in results
    ]
    assert conforms == (not results)
    return messages


def _dataset_ids(hub: Site, key: str | None = "steward") -> list[str]:
    """Ids of the datasets package_search shows (to the steward by default; None: anonymous)."""
    ckan = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys[key] if key == "steward" else key)
    return [p["id"] for p in ckan.action.package_search(rows=100, include_private=True)["results"]]


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "xml", "nt"])
@pytest.mark.parametrize("who", ["steward", None])
def test_the_catalogue_validates_against_dcat_ap_3(hub: Site, shapes: Graph, fmt: str, who: str | None) -> None:
    key = hub.keys[who] if who else None
    g = _graph(hub, f"/catalog.{fmt}", fmt, key)
    datasets = {str(d).rsplit("/", 1)[1] for d in g.objects(None, DCAT.dataset)}
    assert datasets == set(_dataset_ids(hub, key)) and len(datasets) == (13 if who else 8)
    assert _violations(g, shapes) == []


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "xml", "nt"])
def test_every_dataset_validates_against_dcat_ap_3(hub: Site, shapes: Graph, fmt: str) -> None:
    ids = _dataset_ids(hub)
    assert len(ids) == 13
    for dataset_id in ids:
        g = _graph(hub, f"/dataset/{dataset_id}.{fmt}", fmt, hub.keys["steward"])
        assert (URIRef(f"{hub.url}/dataset/{dataset_id}"), RDF.type, DCAT.Dataset) in g
        assert _violations(g, shapes) == [], dataset_id


def test_negotiated_documents_validate_too(hub: Site, shapes: Graph) -> None:
    for path in ["/catalog", f"/dataset/{_dataset_ids(hub)[0]}"]:
        for accept, parser in ACCEPTS.items():
            if parser:
                answer = _get(hub, path, accept, hub.keys["steward"])
                assert _violations(Graph().parse(data=answer.content, format=parser), shapes) == []


def test_mandatory_texts_in_chinese_and_english_and_typed_vocabularies(hub: Site) -> None:
    g = _graph(hub, "/dataset/spatial-grids.ttl", "ttl", hub.keys["steward"])
    ds = URIRef(f"{hub.url}/dataset/{service.stable_id('dataset', 'spatial.grids')}")
    for prop in (DCTERMS.title, DCTERMS.description):
        assert {v.language for v in g.objects(ds, prop)} == {"zh", "en"}, prop
    description = {v.language: str(v) for v in g.objects(ds, DCTERMS.description)}
    assert description["en"].isascii() and not description["zh"].isascii()
    publisher = g.value(ds, DCTERMS.publisher)
    assert (publisher, RDF.type, URIRef("http://xmlns.com/foaf/0.1/Agent")) in g
    for dist in g.objects(ds, DCAT.distribution):  # published: both; not yet: the landing page only
        assert g.value(dist, DCAT.accessURL) is not None and g.value(dist, DCAT.downloadURL) is not None
        assert str(g.value(dist, DCAT.mediaType)).startswith("https://www.iana.org/assignments/media-types/")
        assert str(g.value(dist, DCTERMS["format"])).startswith(
            "http://publications.europa.eu/resource/authority/file-type/"
        )
        assert g.value(dist, DCTERMS.license) == URIRef(CC_BY)
    unpublished = _graph(hub, "/dataset/spatial-pois.ttl", "ttl", hub.keys["steward"])
    for dist in unpublished.objects(None, DCAT.distribution):
        assert str(unpublished.value(dist, DCAT.accessURL)) == f"{hub.url}/dataset/spatial-pois"
        assert unpublished.value(dist, DCAT.downloadURL) is None, "nothing to download before the first version"


def _hub_uris(hub: Site, g: Graph) -> set[str]:
    every = {str(n) for triple in g for n in triple if isinstance(n, URIRef)}
    return {u.split("#")[0] for u in every if u.startswith(hub.url)}


def test_every_hub_uri_in_the_catalogue_dereferences(hub: Site) -> None:
    key = hub.keys["steward"]
    g = _graph(hub, "/catalog.ttl", "ttl", key)
    for ds in list(g.objects(None, DCAT.dataset)):
        g += _graph(hub, str(ds).removeprefix(hub.url) + ".ttl", "ttl", key)
    uris = _hub_uris(hub, g)
    minted = {u for u in uris if "?" not in u and "/api/" not in u and not u.endswith((".json", ".ttl"))}
    kinds = {u.removeprefix(hub.url).split("/")[1] for u in minted}
    assert kinds == {"catalog", "dataset", "organization", "group", "licence", "ns"}, kinds
    assert len([u for u in minted if "/resource/" in u]) == 25  # two per contract, one link
    for uri in sorted(uris):
        for accept, parser in ACCEPTS.items():
            answer = _get(hub, uri, accept, key)
            assert answer.status_code == 200, (uri, accept, answer.text[:200])
            if uri not in minted:
                continue  # the API's own routes (records, export, OpenAPI, pages): answered, in their format
            assert answer.headers["content-type"].split(";")[0] == accept, (uri, accept)
            if parser is None:
                assert answer.text.startswith("<!doctype html>") and "<h1>" in answer.text
            else:
                doc = Graph().parse(data=answer.content, format=parser)
                described = {str(s).split("#")[0] for s in doc.subjects()}
                assert uri in described, (uri, accept)


def test_distribution_links_answer_with_data(hub: Site) -> None:
    g = _graph(hub, "/dataset/spatial-grids.ttl", "ttl", hub.keys["consumer"])
    links = {str(o) for p in (DCAT.accessURL, DCAT.downloadURL) for o in g.objects(None, p)}
    assert any("/export?format=parquet" in u for u in links) and any(u.endswith("/records") for u in links)
    for url in links:
        answer = _get(hub, url, key=hub.keys["consumer"])
        assert answer.status_code == 200 and answer.content, url
    assert any(_get(hub, u, key=hub.keys["consumer"]).content.startswith(b"PAR1") for u in links)


def test_content_negotiation_rules(hub: Site) -> None:
    assert _get(hub, "/catalog").headers["content-type"].startswith("text/html")
    assert _get(hub, "/catalog", "*/*").headers["content-type"].startswith("text/html")
    picked = _get(hub, "/catalog", "text/turtle;q=0.5, application/ld+json")
    assert picked.headers["content-type"] == "application/ld+json" and picked.headers["vary"] == "Accept"
    assert _get(hub, "/catalog", "application/rdf+xml").headers["content-type"] == "application/rdf+xml"
    assert _get(hub, "/catalog", "application/json").headers["content-type"] == "application/ld+json"
    licence_page = _get(hub, "/licence/gov-sharing", "text/html").text
    assert f'type="text/turtle" href="{hub.url}/licence/gov-sharing"' in licence_page, "alternates that exist"
    refused = _get(hub, "/catalog", "image/png")
    assert refused.status_code == 406 and refused.json()["error"]["code"]
    assert _get(hub, "/licence/none", "text/turtle").status_code == 404
    assert _get(hub, "/dataset/nothing", "text/turtle").status_code == 404
    assert _get(hub, "/dataset/population.residents", "text/turtle", hub.keys["consumer"]).status_code == 200


def test_private_datasets_follow_the_catalogue_rules(hub: Site) -> None:
    residents = service.stable_id("dataset", "population.residents")
    resource = _get(hub, "/api/3/action/package_show?id=population-residents", key=hub.keys["steward"])
    rid = resource.json()["result"]["resources"][0]["id"]
    for path in (f"/dataset/{residents}", "/dataset/population-residents", f"/dataset/{residents}/resource/{rid}"):
        for accept in ACCEPTS:
            answer = _get(hub, path, accept)
            assert answer.status_code == 401, (path, accept)
            if residents in path:
                assert "population" not in answer.text, "an id never yields a name"
            assert _get(hub, path, accept, hub.keys["consumer"]).status_code == 200
    public = _get(hub, "/catalog", "text/turtle")
    assert "population-residents" not in public.text and residents not in public.text
    assert _get(hub, "/dataset/street-offices", "text/turtle").status_code == 200
    assert _get(hub, "/licence/gov-sharing").status_code == 200
    assert _get(hub, "/organization/hub", "text/turtle").status_code == 200


def test_html_pages_escape_every_value(hub: Site) -> None:
    page = _get(hub, "/dataset/street-offices", "text/html").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Street offices &amp; their phones." in page
    licence = _get(hub, "/licence/gov-sharing", "text/html").text
    assert "政务共享数据使用协议" in licence and licences.GOV_SHARING.text[:20] in licence


def test_ckan_licences_come_from_the_contracts(hub: Site) -> None:
    ckan = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"])
    shown = {
        p["contract_id"]: p
        for p in ckan.action.package_search(rows=100, include_private=True)["results"]
        if p["contract_id"]
    }
    assert {k: p["license_id"] for k, p in shown.items()} == CONTRACT_LICENCES
    grids_pkg, residents = shown["spatial.grids"], shown["population.residents"]
    assert (grids_pkg["license_title"], grids_pkg["license_url"]) == (licences.CC_BY.title, CC_BY)
    assert (residents["license_title"], residents["license_url"]) == (
        "政务共享数据使用协议",
        f"{hub.url}/licence/gov-sharing",
    )
    listed = {lic["id"]: lic for lic in ckan.action.license_list()}
    assert set(listed) == {"cc-by", "gov-sharing"} and listed["cc-by"]["url"] == CC_BY
    assert _get(hub, listed["gov-sharing"]["url"], "text/turtle").status_code == 200
    found = ckan.action.package_search(fq="license_id:cc-by", rows=100, include_private=True)["results"]
    assert {p["name"] for p in found} == {
        "economy-street_indicators",
        "spatial-grids",
        "spatial-pois",
        "derived-indicator_alerts",
        "street-offices",
    }
    offices = ckan.action.package_show(id="street-offices")
    assert offices["license_id"] == "cc-by" and offices["license_url"] == CC_BY


def test_derived_datasets_inherit_the_strictest_input_licence(tmp_path: Path) -> None:
    folder = Path(model.__file__).parents[1] / "contracts" / "datasets"
    contracts = {c.id: c for c in model.load_all(folder)}
    assert {c: licences.for_contract(contracts[c], contracts.get).id for c in contracts} == CONTRACT_LICENCES
    open_inputs = contracts["derived.indicator_alerts"].model_copy(
        update={"derived_from": ["spatial.grids", "spatial.pois"]}
    )
    assert licences.for_contract(open_inputs, contracts.get) is licences.CC_BY
    mixed = open_inputs.model_copy(update={"derived_from": ["spatial.grids", "economy.tax_monthly"]})
    assert licences.for_contract(mixed, contracts.get) is licences.GOV_SHARING
    declared_open = mixed.model_copy(update={"licence": "CC-BY-4.0"})
    assert licences.for_contract(declared_open, contracts.get) is licences.GOV_SHARING, "inputs' terms still bind"
    unknown_input = open_inputs.model_copy(update={"derived_from": ["spatial.grids", "somewhere.else"]})
    assert licences.for_contract(unknown_input, contracts.get) is licences.GOV_SHARING, "unknown counts as strictest"
    assert licences.strictest([licences.CC_BY, licences.GOV_SHARING, licences.CC_BY]) is licences.GOV_SHARING
    with pytest.raises(InputError, match="unknown licence 'ODbL'"):
        licences.named("ODbL")
