"""The catalogue as DCAT-AP RDF (built with rdflib, so any RDF parser reads it back).

Mapping (see docs/catalogue.md): dataset → dcat:Dataset, resource → dcat:Distribution, the
records API → dcat:DataService, department → foaf:Agent, domain and theme groups →
skos:Concept in the hub's theme scheme (plus the EU data theme), versions → dcat:hasVersion
datasets with quality measurements (DQV), 信息项 → a CSVW table schema. The national catalogue
elements that DCAT has no term for live in the hub's own namespace (``hub:resourceCode`` …).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import CSVW, DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import permissions, profile
from catalog.models import ApiClient, Dataset, Group, Organization, Resource, Version

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
# DCAT 3 terms rdflib's (DCAT 2) namespace does not define
DCAT_VERSION = URIRef(str(DCAT) + "version")
DCAT_HAS_VERSION = URIRef(str(DCAT) + "hasVersion")
EU = "http://publications.europa.eu/resource/authority/"
ACCESS = {"无条件开放": "PUBLIC", "有条件开放": "RESTRICTED", "不予开放": "NON_PUBLIC"}
EU_THEMES = {"population": "SOCI", "legal_entity": "ECON", "economy": "ECON", "building": "REGI", "spatial": "REGI"}
MEDIA = {
    "JSON": ("JSON", "application/json"),
    "PARQUET": ("PARQUET", "application/vnd.apache.parquet"),
    "CSV": ("CSV", "text/csv"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "PDF": ("PDF", "application/pdf"),
}
XSD_TYPES = {
    "string": XSD.string,
    "integer": XSD.integer,
    "number": XSD.decimal,
    "date": XSD.date,
    "timestamp": XSD.dateTime,
    "boolean": XSD.boolean,
}
FORMATS = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "xml": ("xml", "application/rdf+xml"),
    "rdf": ("xml", "application/rdf+xml"),
    "nt": ("nt", "application/n-triples"),
}


@dataclass(frozen=True)
class Withheld:
    """What a caller may not learn of the datasets it cannot read: their ids, CKAN names,
    contract ids and resource codes. A dataset it can read never names them, not even in its
    lineage (``prov:wasDerivedFrom``, the provenance text with input snapshots) or its related
    resource codes."""

    refs: frozenset[str] = frozenset()

    @classmethod
    def of(cls, datasets: Iterable[Dataset]) -> Withheld:
        refs = {ref for ds in datasets for ref in (ds.id, ds.name, ds.key, ds.resource_code) if ref}
        return cls(frozenset(refs))

    def hides(self, ref: str) -> bool:
        return ref in self.refs


def withheld_from(s: Session, caller: ApiClient | None) -> Withheld:
    """The datasets ``caller`` cannot read (private ones for an anonymous caller; deleted ones)."""
    return Withheld.of(ds for ds in s.scalars(select(Dataset)) if not permissions.can_read(caller, ds))


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int
    url: str


class Builder:
    """Adds catalogue objects to one graph; URIs are built from the site's base URL. ``withheld``
    names what the graph's reader may not learn of other datasets (see :class:`Withheld`)."""

    def __init__(self, base_url: str, *, withheld: Withheld):
        self.base = base_url.rstrip("/")
        self.withheld = withheld
        self.hub = Namespace(f"{self.base}/ns/catalogue#")
        self.g = Graph(bind_namespaces="core")
        prefixes: dict[str, Any] = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "vcard": VCARD, "adms": ADMS}
        prefixes |= {"dqv": DQV, "skos": SKOS, "csvw": CSVW, "prov": PROV, "hub": self.hub, "hydra": HYDRA}
        for prefix, ns in prefixes.items():
            self.g.bind(prefix, ns)

    def uri(self, *parts: str) -> URIRef:
        return URIRef("/".join([self.base, *parts]))

    def _text(self, node: URIRef | BNode, prop: URIRef, zh: str | None, en: str | None = None) -> None:
        if zh:
            self.g.add((node, prop, Literal(zh, lang="zh")))
        if en:
            self.g.add((node, prop, Literal(en, lang="en")))

    def agent(self, org: Organization) -> URIRef:
        node = self.uri("organization", org.id)
        self.g.add((node, RDF.type, FOAF.Agent))
        self.g.add((node, RDF.type, FOAF.Organization))
        self._text(node, FOAF.name, org.title, org.title_en)
        self.g.add((node, DCTERMS.identifier, Literal(org.code)))
        return node

    def theme(self, group: Group) -> URIRef:
        node = self.uri("group", group.name)
        self.g.add((node, RDF.type, SKOS.Concept))
        self.g.add((node, SKOS.inScheme, self.uri("groups")))
        self.g.add((node, SKOS.notation, Literal(group.name)))
        self._text(node, SKOS.prefLabel, group.title, group.title_en)
        return node

    def catalog(self, title: str, datasets: list[Dataset], page: Page | None = None) -> URIRef:
        node = URIRef(self.base + "/")
        g = self.g
        g.add((node, RDF.type, DCAT.Catalog))
        self._text(node, DCTERMS.title, title)
        self._text(
            node, DCTERMS.description, "东城区人口、法人、经济、建筑、空间基础数据的共享目录。", "Base-data catalogue."
        )
        publisher = self.uri("organization", "hub")
        g.add((publisher, RDF.type, FOAF.Agent))
        self._text(publisher, FOAF.name, "东城区公共基础数据共享交换平台", "Dongcheng base-data hub")
        g.add((node, DCTERMS.publisher, publisher))
        g.add((node, FOAF.homepage, node))
        g.add((node, DCTERMS.language, URIRef(EU + "language/ZHO")))
        scheme = self.uri("groups")
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        self._text(scheme, SKOS.prefLabel, "基础数据领域与主题", "Base-data domains and themes")
        g.add((node, DCAT.themeTaxonomy, scheme))
        g.add((node, DCAT.service, self.service()))
        if datasets:
            modified = max(d.modified for d in datasets)
            g.add((node, DCTERMS.modified, Literal(_utc(modified), datatype=XSD.dateTime)))
        for ds in datasets:
            g.add((node, DCAT.dataset, self.dataset(ds)))
        if page is not None:
            self.paging(page)
        return node

    def paging(self, page: Page) -> None:
        node = URIRef(f"{page.url}?page={page.number}")
        last = max(1, -(-page.total // page.size))
        self.g.add((node, RDF.type, HYDRA.PagedCollection))
        self.g.add((node, HYDRA.totalItems, Literal(page.total)))
        self.g.add((node, HYDRA.itemsPerPage, Literal(page.size)))
        self.g.add((node, HYDRA.firstPage, URIRef(f"{page.url}?page=1")))
        self.g.add((node, HYDRA.lastPage, URIRef(f"{page.url}?page={last}")))
        if page.number < last:
            self.g.add((node, HYDRA.nextPage, URIRef(f"{page.url}?page={page.number + 1}")))
        if page.number > 1:
            self.g.add((node, HYDRA.previousPage, URIRef(f"{page.url}?page={page.number - 1}")))

    def service(self) -> URIRef:
        node = self.uri("api", "v1")
        self.g.add((node, RDF.type, DCAT.DataService))
        self._text(node, DCTERMS.title, "数据交换接口", "Exchange API")
        self.g.add((node, DCAT.endpointURL, node))
        self.g.add((node, DCAT.endpointDescription, self.uri("openapi.json")))
        return node

    def dataset(self, ds: Dataset) -> URIRef:
        node = self.uri("dataset", ds.id)
        g, record = self.g, profile.record(ds)
        g.add((node, RDF.type, DCAT.Dataset))
        self._text(node, DCTERMS.title, ds.title, ds.title_en)
        self._text(node, DCTERMS.description, ds.notes or ds.title)
        g.add((node, DCTERMS.identifier, Literal(ds.resource_code or ds.id)))
        self._identifier(node, ds.id, "CKAN")
        if ds.from_contract:
            self._identifier(node, ds.key, "ODCS data contract")
        for tag in ds.tags:
            g.add((node, DCAT.keyword, Literal(tag, lang="en" if tag.isascii() else "zh")))
        g.add((node, DCTERMS.publisher, self.agent(ds.organization)))
        g.add((node, DCAT.contactPoint, self._contact(ds)))
        for group in ds.groups:
            g.add((node, DCAT.theme, self.theme(group)))
        if ds.domain in EU_THEMES:
            g.add((node, DCAT.theme, URIRef(EU + "data-theme/" + EU_THEMES[ds.domain])))
        frequency = profile.FREQUENCIES.get(ds.update_frequency)
        if frequency:
            g.add((node, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/" + frequency[1])))
        g.add((node, DCTERMS.accessRights, URIRef(EU + "access-right/" + ACCESS.get(ds.open_type, "RESTRICTED"))))
        if record.release_date:
            g.add((node, DCTERMS.issued, Literal(record.release_date, datatype=XSD.date)))
        g.add((node, DCTERMS.modified, Literal(_utc(ds.modified), datatype=XSD.dateTime)))
        g.add((node, DCAT.landingPage, self.uri("dataset", ds.name)))
        g.add((node, DCTERMS.language, URIRef(EU + "language/ZHO")))
        g.add((node, DCTERMS.spatial, self._place()))
        if ds.contract_version:
            g.add((node, OWL.versionInfo, Literal(ds.contract_version)))
            g.add((node, DCAT_VERSION, Literal(ds.contract_version)))
        self._national(node, ds, record)
        for res in ds.resources:
            g.add((node, DCAT.distribution, self.distribution(ds, res)))
        for version in ds.versions:
            g.add((node, DCAT_HAS_VERSION, self.version(ds, version)))
        return node

    def _identifier(self, node: URIRef, value: str, scheme: str) -> None:
        ident = BNode()
        self.g.add((node, ADMS.identifier, ident))
        self.g.add((ident, RDF.type, ADMS.Identifier))
        self.g.add((ident, SKOS.notation, Literal(value)))
        self.g.add((ident, ADMS.schemaAgency, Literal(scheme)))

    def _contact(self, ds: Dataset) -> BNode:
        node = BNode()
        self.g.add((node, RDF.type, VCARD.Organization))
        self.g.add((node, VCARD.fn, Literal(ds.steward or ds.organization.title)))
        self.g.add((node, VCARD["organization-name"], Literal(ds.organization.title, lang="zh")))
        return node

    def _place(self) -> BNode:
        node = BNode()
        self.g.add((node, RDF.type, DCTERMS.Location))
        self.g.add((node, SKOS.prefLabel, Literal("北京市东城区", lang="zh")))
        self.g.add((node, DCTERMS.identifier, Literal("110101")))
        return node

    def _national(self, node: URIRef, ds: Dataset, record: profile.CatalogueRecord) -> None:
        """政务信息资源目录 elements DCAT has no term for."""
        hub, g = self.hub, self.g
        cls = record.resource_classification
        if record.resource_code:
            g.add((node, hub.resourceCode, Literal(record.resource_code)))
        g.add((node, hub.resourceClass, Literal(f"{cls.class_code} {cls.class_name}", lang="zh")))
        g.add((node, hub.resourceItem, Literal(f"{cls.item_code} {cls.item_name}", lang="zh")))
        g.add((node, hub.providerCode, Literal(record.provider_code)))
        g.add((node, hub.sharingType, Literal(record.sharing_type, lang="zh")))
        if record.sharing_condition:
            g.add((node, hub.sharingCondition, Literal(record.sharing_condition, lang="zh")))
        for method in record.sharing_method:
            g.add((node, hub.sharingMethod, Literal(method, lang="zh")))
        g.add((node, hub.openType, Literal(record.open_type, lang="zh")))
        g.add((node, hub.updateFrequency, Literal(record.update_frequency_label, lang="zh")))
        for code in record.related_resource_codes:
            if self.withheld.hides(code):
                continue
            g.add((node, hub.relatedResourceCode, Literal(code)))
        if record.information_items:
            g.add((node, CSVW.tableSchema, self._schema(ds, record)))

    def _schema(self, ds: Dataset, record: profile.CatalogueRecord) -> URIRef:
        schema = self.uri("dataset", ds.id, "schema")
        self.g.add((schema, RDF.type, CSVW.Schema))
        for pos, item in enumerate(record.information_items):
            column = self.uri("dataset", ds.id, "schema", item.name)
            self.g.add((schema, CSVW.column, column))
            self.g.add((column, RDF.type, CSVW.Column))
            self.g.add((column, CSVW.name, Literal(item.name)))
            self.g.add((column, CSVW.title, Literal(item.title, lang="zh")))
            self.g.add((column, CSVW.datatype, XSD_TYPES.get(item.type, XSD.string)))
            self.g.add((column, self.hub.dataType, Literal(item.data_type, lang="zh")))
            self.g.add((column, self.hub.classification, Literal(item.classification)))
            self.g.add((column, self.hub.position, Literal(pos + 1)))
        return schema

    def distribution(self, ds: Dataset, res: Resource) -> URIRef:
        node = self.uri("dataset", ds.id, "resource", res.id)
        g = self.g
        url = res.url if "://" in res.url or not res.url else self.base + res.url
        g.add((node, RDF.type, DCAT.Distribution))
        self._text(node, DCTERMS.title, res.name or res.format or res.id)
        if res.description:
            self._text(node, DCTERMS.description, res.description)
        g.add((node, DCAT.accessURL, URIRef(url or self.uri("dataset", ds.name))))
        if res.extra.get("url_type") == "upload":
            g.add((node, DCAT.downloadURL, URIRef(url)))
        if res.format.upper() == "JSON" and res.generated:
            g.add((node, DCAT.accessService, self.service()))
        media = MEDIA.get(res.format.upper())
        if media:
            g.add((node, DCTERMS["format"], URIRef(EU + "file-type/" + media[0])))
            g.add((node, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/" + media[1])))
        elif res.format:
            g.add((node, DCTERMS["format"], Literal(res.format)))
        if isinstance(res.extra.get("size"), int):
            g.add((node, DCAT.byteSize, Literal(res.extra["size"], datatype=XSD.nonNegativeInteger)))
        if ds.licence:
            licence = self.uri("licence", "gov-sharing")
            g.add((licence, RDF.type, DCTERMS.LicenseDocument))
            self._text(licence, RDFS.label, ds.licence)
            g.add((node, DCTERMS.license, licence))
        g.add((node, DCTERMS.accessRights, URIRef(EU + "access-right/" + ACCESS.get(ds.open_type, "RESTRICTED"))))
        return node

    def version(self, ds: Dataset, v: Version) -> URIRef:
        node = self.uri("dataset", ds.id, "version", str(v.number))
        g = self.g
        g.add((node, RDF.type, DCAT.Dataset))
        self._text(node, DCTERMS.title, f"{ds.title} 第{v.number}版", f"{ds.title_en or ds.name} version {v.number}")
        g.add((node, DCAT_VERSION, Literal(str(v.number))))
        g.add((node, DCTERMS.isVersionOf, self.uri("dataset", ds.id)))
        g.add((node, DCTERMS.issued, Literal(_utc(v.published_at), datatype=XSD.dateTime)))
        g.add((node, DCTERMS.identifier, Literal(str(v.snapshot_id))))
        provenance = BNode()
        g.add((node, DCTERMS.provenance, provenance))
        g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
        every_input = sorted((v.lineage.get("inputs") or {}).items())
        inputs = [(name, snapshot) for name, snapshot in every_input if not self.withheld.hides(str(name))]
        text = f"{v.source_file} (sha256 {v.lineage.get('source_sha256', v.source_sha256)}) → Iceberg {v.snapshot_id}"
        if inputs:
            text += "; built from " + ", ".join(f"{name} snapshot {snapshot}" for name, snapshot in inputs)
        if len(inputs) < len(every_input):
            text += "; further inputs not shown"
        g.add((provenance, RDFS.label, Literal(text)))
        for name, _ in inputs:
            g.add((node, PROV.wasDerivedFrom, self.uri("dataset", name)))
        for metric, value in (("rowCount", v.row_count), ("rowsRejected", v.rows_rejected)):
            measure = BNode()
            g.add((node, DQV.hasQualityMeasurement, measure))
            g.add((measure, RDF.type, DQV.QualityMeasurement))
            g.add((measure, DQV.isMeasurementOf, self.hub[metric]))
            g.add((measure, DQV.value, Literal(value, datatype=XSD.integer)))
        return node


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def serialize(graph: Graph, fmt: str) -> tuple[bytes, str]:
    name, media = FORMATS[fmt]
    if name == "json-ld":
        context = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
        data = graph.serialize(format="json-ld", context=context, auto_compact=True)
    else:
        data = graph.serialize(format=name)
    return data.encode("utf-8") if isinstance(data, str) else data, media
