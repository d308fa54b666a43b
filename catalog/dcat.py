"""The catalogue as DCAT-AP RDF (built with rdflib, so any RDF parser reads it back).

Mapping (see docs/catalogue.md): dataset → dcat:Dataset, resource → dcat:Distribution, the
records API → dcat:DataService, department → foaf:Agent, domain and theme groups →
skos:Concept in the hub's theme scheme (plus the EU data theme), versions → dcat:hasVersion
datasets with quality measurements (DQV), 信息项 → a CSVW table schema. The national catalogue
elements that DCAT has no term for live in the hub's own namespace (``hub:resourceCode`` …).

The output validates against the DCAT-AP 3.0.1 SHACL shapes (tests/shapes/): mandatory texts in
Chinese and English, vocabulary terms typed with the class DCAT-AP expects, licences as URIs
(catalog/licences.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import CSVW, DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import licences, permissions, profile
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
IANA = "https://www.iana.org/assignments/media-types/"
HUB_AGENT = "hub"
"""``/organization/hub``: the hub itself, publisher of the catalogue."""
HUB_NAME = ("东城区公共基础数据共享交换平台", "Dongcheng base-data hub")
CATALOG_DESCRIPTION = (
    "东城区人口、法人、经济、建筑、空间基础数据的共享目录。",
    "Catalogue of Dongcheng district's base data: population, legal entities, economy, buildings, spatial data.",
)
SERVICE_DESCRIPTION = (
    "按授权返回数据集记录与导出文件，敏感字段默认脱敏。",
    "Records and exports of the datasets under the caller's grant; sensitive fields masked by default.",
)
THEME_SCHEME = ("基础数据领域与主题", "Base-data domains and themes")
EU_THEME_LABELS = {
    "SOCI": ("人口与社会", "Population and society"),
    "ECON": ("经济与金融", "Economy and finance"),
    "REGI": ("地区与城市", "Regions and cities"),
}
HUB_TERMS = {
    "resourceCode": ("资源代码", "resource code"),
    "resourceClass": ("资源分类（类）", "resource class"),
    "resourceItem": ("资源分类（项）", "resource item"),
    "providerCode": ("资源提供方代码", "provider code"),
    "sharingType": ("共享类型", "sharing type"),
    "sharingCondition": ("共享条件", "sharing condition"),
    "sharingMethod": ("共享方式", "sharing method"),
    "openType": ("开放类型", "open type"),
    "updateFrequency": ("更新周期", "update frequency"),
    "relatedResourceCode": ("关联资源代码", "related resource code"),
    "dataType": ("数据类型", "data type"),
    "classification": ("数据分级", "classification"),
    "position": ("信息项序号", "position of the information item"),
    "rowCount": ("行数", "row count"),
    "rowsRejected": ("拒收行数", "rows rejected"),
}
_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
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
    names what the graph's reader may not learn of other datasets (see :class:`Withheld`).

    Every URI minted for the hub answers on the hub (``exchange_api/dcat.py``, with content
    negotiation): the catalogue, datasets, distributions, departments, themes, licences and the
    ``hub:`` vocabulary; schemas, columns and versions are fragments of their dataset's document."""

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

    def catalog_uri(self) -> URIRef:
        return self.uri("catalog")

    def dataset_uri(self, ds: Dataset) -> URIRef:
        return self.uri("dataset", ds.id)

    def _text(self, node: URIRef | BNode, prop: URIRef, zh: str | None, en: str | None = None) -> None:
        if zh:
            self.g.add((node, prop, Literal(zh, lang="zh")))
        if en:
            self.g.add((node, prop, Literal(en, lang="en")))

    def _term(self, uri: str, cls: URIRef) -> URIRef:
        """A term of a vocabulary published elsewhere (EU authority tables, IANA), typed with the
        class DCAT-AP expects, so the graph validates without loading those vocabularies."""
        node = URIRef(uri)
        self.g.add((node, RDF.type, cls))
        return node

    def _document(self, uri: URIRef) -> URIRef:
        self.g.add((uri, RDF.type, FOAF.Document))
        return uri

    def _language(self, node: URIRef) -> None:
        self.g.add((node, DCTERMS.language, self._term(EU + "language/ZHO", DCTERMS.LinguisticSystem)))

    def hub_agent(self) -> URIRef:
        node = self.uri("organization", HUB_AGENT)
        self.g.add((node, RDF.type, FOAF.Agent))
        self.g.add((node, RDF.type, FOAF.Organization))
        self._text(node, FOAF.name, HUB_NAME[0], HUB_NAME[1])
        return node

    def agent(self, org: Organization) -> URIRef:
        node = self.uri("organization", org.id)
        self.g.add((node, RDF.type, FOAF.Agent))
        self.g.add((node, RDF.type, FOAF.Organization))
        self._text(node, FOAF.name, org.title, org.title_en)
        self.g.add((node, DCTERMS.identifier, Literal(org.code)))
        return node

    def theme_scheme(self) -> URIRef:
        scheme = URIRef(self.catalog_uri() + "#themes")
        self.g.add((scheme, RDF.type, SKOS.ConceptScheme))
        self._text(scheme, DCTERMS.title, *THEME_SCHEME)
        self._text(scheme, SKOS.prefLabel, *THEME_SCHEME)
        return scheme

    def theme(self, group: Group) -> URIRef:
        node = self.uri("group", group.name)
        self.g.add((node, RDF.type, SKOS.Concept))
        self.g.add((node, SKOS.inScheme, self.theme_scheme()))
        self.g.add((node, SKOS.notation, Literal(group.name)))
        self._text(node, SKOS.prefLabel, group.title, group.title_en)
        return node

    def eu_theme(self, code: str) -> URIRef:
        node = self._term(EU + "data-theme/" + code, SKOS.Concept)
        self.g.add((node, SKOS.inScheme, URIRef(EU + "data-theme")))
        self._text(node, SKOS.prefLabel, *EU_THEME_LABELS[code])
        return node

    def licence(self, licence: licences.Licence) -> URIRef:
        node = URIRef(licence.uri(self.base))
        self.g.add((node, RDF.type, DCTERMS.LicenseDocument))
        self._text(node, DCTERMS.title, licence.title, licence.title_en)
        self._text(node, DCTERMS.description, licence.text, licence.text_en)
        return node

    def catalog(self, title: str, datasets: list[Dataset], page: Page | None = None) -> URIRef:
        node = self.catalog_uri()
        g = self.g
        g.add((node, RDF.type, DCAT.Catalog))
        self._text(node, DCTERMS.title, title, HUB_NAME[1] + " catalogue")
        self._text(node, DCTERMS.description, *CATALOG_DESCRIPTION)
        g.add((node, DCTERMS.publisher, self.hub_agent()))
        g.add((node, FOAF.homepage, self._document(node)))
        self._language(node)
        g.add((node, DCAT.themeTaxonomy, self.theme_scheme()))
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
        node = URIRef(self.catalog_uri() + "#exchange-api")
        self.g.add((node, RDF.type, DCAT.DataService))
        self._text(node, DCTERMS.title, "数据交换接口", "Exchange API")
        self._text(node, DCTERMS.description, *SERVICE_DESCRIPTION)
        self.g.add((node, DCAT.endpointURL, self.uri("api", "v1", "datasets")))
        self.g.add((node, DCAT.endpointDescription, self.uri("openapi.json")))
        return node

    def dataset(self, ds: Dataset) -> URIRef:
        node = self.dataset_uri(ds)
        g, record = self.g, profile.record(ds)
        g.add((node, RDF.type, DCAT.Dataset))
        self._text(node, DCTERMS.title, ds.title, ds.title_en)
        zh, en = split_languages(ds.notes)
        self._text(node, DCTERMS.description, zh or ds.title, en or ds.title_en)
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
            g.add((node, DCAT.theme, self.eu_theme(EU_THEMES[ds.domain])))
        frequency = profile.FREQUENCIES.get(ds.update_frequency)
        if frequency:
            g.add((node, DCTERMS.accrualPeriodicity, self._term(EU + "frequency/" + frequency[1], DCTERMS.Frequency)))
        g.add((node, DCTERMS.accessRights, self._access_rights(ds)))
        if record.release_date:
            g.add((node, DCTERMS.issued, Literal(record.release_date, datatype=XSD.date)))
        g.add((node, DCTERMS.modified, Literal(_utc(ds.modified), datatype=XSD.dateTime)))
        g.add((node, DCAT.landingPage, self._document(self.uri("dataset", ds.name))))
        self._language(node)
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

    def _access_rights(self, ds: Dataset) -> URIRef:
        return self._term(EU + "access-right/" + ACCESS.get(ds.open_type, "RESTRICTED"), DCTERMS.RightsStatement)

    def _identifier(self, node: URIRef, value: str, scheme: str) -> None:
        ident = BNode()
        self.g.add((node, ADMS.identifier, ident))
        self.g.add((ident, RDF.type, ADMS.Identifier))
        self.g.add((ident, SKOS.notation, Literal(value)))
        self.g.add((ident, ADMS.schemaAgency, Literal(scheme)))

    def _contact(self, ds: Dataset) -> BNode:
        node = BNode()
        self.g.add((node, RDF.type, VCARD.Kind))
        self.g.add((node, RDF.type, VCARD.Organization))
        self.g.add((node, VCARD.fn, Literal(ds.steward or ds.organization.title)))
        self._text(node, VCARD["organization-name"], ds.organization.title, ds.organization.title_en)
        self.g.add((node, VCARD.hasURL, self.uri("organization", ds.organization.id)))
        return node

    def _place(self) -> BNode:
        node = BNode()
        self.g.add((node, RDF.type, DCTERMS.Location))
        self._text(node, SKOS.prefLabel, "北京市东城区", "Dongcheng District, Beijing")
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
        schema = URIRef(self.dataset_uri(ds) + "#schema")
        self.g.add((schema, RDF.type, CSVW.Schema))
        for pos, item in enumerate(record.information_items):
            column = URIRef(self.dataset_uri(ds) + "#column-" + quote(item.name, safe=""))
            self.g.add((schema, CSVW.column, column))
            self.g.add((column, RDF.type, CSVW.Column))
            self.g.add((column, CSVW.name, Literal(item.name)))
            self.g.add((column, CSVW.title, Literal(item.title, lang="zh")))
            self.g.add((column, CSVW.datatype, XSD_TYPES.get(item.type, XSD.string)))
            self.g.add((column, self.hub.dataType, Literal(item.data_type, lang="zh")))
            self.g.add((column, self.hub.classification, Literal(item.classification)))
            self.g.add((column, self.hub.position, Literal(pos + 1)))
        return schema

    def distribution_uri(self, ds: Dataset, res: Resource) -> URIRef:
        return self.uri("dataset", ds.id, "resource", res.id)

    def _links(self, ds: Dataset, res: Resource) -> tuple[str, str | None]:
        """Access and download URL. Generated resources: the records API (JSON) and the export
        (Parquet, for the Iceberg table), once a version exists (before: the landing page, nothing
        to download yet); uploads: the hub's download route; links: the link."""
        if res.generated and not ds.versions:
            return str(self.uri("dataset", ds.name)), None
        if res.generated:
            api = f"{self.base}/api/v1/datasets/{ds.name}"
            if res.format.upper() == "JSON":
                return f"{api}/records", f"{api}/records"
            return f"{api}/export?format=parquet", f"{api}/export?format=parquet"
        if not res.url:
            return str(self.uri("dataset", ds.name)), str(self.uri("dataset", ds.name))
        url = res.url if "://" in res.url else self.base + res.url
        return url, url

    def distribution(self, ds: Dataset, res: Resource) -> URIRef:
        node = self.distribution_uri(ds, res)
        g = self.g
        g.add((node, RDF.type, DCAT.Distribution))
        zh, en = split_languages(res.name or res.format or res.id)
        self._text(node, DCTERMS.title, zh, en)
        if res.description:
            self._text(node, DCTERMS.description, *split_languages(res.description))
        access, download = self._links(ds, res)
        g.add((node, DCAT.accessURL, URIRef(access)))
        if download:
            g.add((node, DCAT.downloadURL, URIRef(download)))
        if res.format.upper() == "JSON" and res.generated:
            g.add((node, DCAT.accessService, self.service()))
        media = MEDIA.get(res.format.upper())
        if media:
            g.add((node, DCTERMS["format"], self._term(EU + "file-type/" + media[0], DCTERMS.MediaTypeOrExtent)))
            g.add((node, DCAT.mediaType, self._term(IANA + media[1], DCTERMS.MediaType)))
        elif res.format:
            g.add((node, DCTERMS["format"], Literal(res.format)))
        if isinstance(res.extra.get("size"), int):
            g.add((node, DCAT.byteSize, Literal(res.extra["size"], datatype=XSD.nonNegativeInteger)))
        licence = licences.of_dataset(ds)
        if licence is not None:
            g.add((node, DCTERMS.license, self.licence(licence)))
        g.add((node, DCTERMS.accessRights, self._access_rights(ds)))
        return node

    def version(self, ds: Dataset, v: Version) -> URIRef:
        node = URIRef(f"{self.dataset_uri(ds)}#version-{v.number}")
        g = self.g
        g.add((node, RDF.type, DCAT.Dataset))
        name_en = ds.title_en or ds.name
        self._text(node, DCTERMS.title, f"{ds.title} 第{v.number}版", f"{name_en} version {v.number}")
        self._text(
            node,
            DCTERMS.description,
            f"{ds.title}第{v.number}版：{v.row_count}行，拒收{v.rows_rejected}行。",
            f"{name_en}, version {v.number}: {v.row_count} rows, {v.rows_rejected} rejected.",
        )
        g.add((node, DCAT_VERSION, Literal(str(v.number))))
        g.add((node, DCTERMS.isVersionOf, self.dataset_uri(ds)))
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

    def vocabulary(self) -> URIRef:
        """The ``hub:`` terms themselves, so the namespace URI answers with what each term means."""
        node = URIRef(str(self.hub).rstrip("#"))
        self.g.add((node, RDF.type, OWL.Ontology))
        self._text(node, DCTERMS.title, "东城区基础数据目录扩展词汇", "Dongcheng base-data catalogue terms")
        for term, (zh, en) in HUB_TERMS.items():
            uri = self.hub[term]
            self.g.add((uri, RDF.type, RDF.Property))
            self.g.add((uri, RDFS.isDefinedBy, node))
            self._text(uri, RDFS.label, zh, en)
        return node


def split_languages(text: str | None) -> tuple[str | None, str | None]:
    """Chinese and English parts of a text written "中文… English…" (as the contracts' descriptions
    are): everything to the last Chinese character, and the rest if it holds Latin letters. A text
    without Chinese is English; one without an English tail is Chinese only."""
    if not text or not text.strip():
        return None, None
    last = max((i for i, ch in enumerate(text) if _CJK.match(ch)), default=-1)
    if last < 0:
        return None, text.strip()
    zh, rest = text[: last + 1].strip(), text[last + 1 :].strip(" \n\t")
    if not re.search("[A-Za-z]", rest):
        return text.strip(), None
    return zh, rest.strip() or None


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
