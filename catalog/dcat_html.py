"""The catalogue's RDF as a plain HTML page (what a browser gets from a hub URI): the subject's
title and description, then every property, and the other resources the document describes.
Every value is escaped; only http(s) URIs become links."""

from __future__ import annotations

from html import escape

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS
from rdflib.term import Node

LABELS = (DCTERMS.title, FOAF.name, SKOS.prefLabel, RDFS.label)


def label(g: Graph, node: Node) -> str:
    """A node's name: its title, name or label, Chinese first."""
    for prop in LABELS:
        values = list(g.objects(node, prop))
        if values:
            values.sort(key=lambda v: (getattr(v, "language", None) != "zh", str(v)))
            return str(values[0])
    return str(node)


def _name(g: Graph, uri: URIRef) -> str:
    try:
        return g.namespace_manager.normalizeUri(uri)
    except Exception:  # noqa: BLE001 - a URI without a usable prefix is shown whole
        return str(uri)


def _value(g: Graph, node: Node, depth: int) -> str:
    if isinstance(node, Literal):
        lang = f' lang="{escape(node.language)}"' if node.language else ""
        return f"<span{lang}>{escape(str(node))}</span>"
    if isinstance(node, BNode):
        return _table(g, node, depth + 1) if depth < 3 else ""
    text = escape(label(g, node)) if (node, None, None) in g and label(g, node) != str(node) else escape(str(node))
    uri = str(node)
    if uri.startswith(("http://", "https://")):
        return f'<a href="{escape(uri, quote=True)}">{text}</a>'
    return text


def _table(g: Graph, subject: Node, depth: int = 0) -> str:
    rows = []
    for prop in sorted(set(g.predicates(subject, None)), key=str):
        values = sorted(g.objects(subject, prop), key=lambda v: (getattr(v, "language", "") or "", str(v)))
        cells = "<br>".join(_value(g, v, depth) for v in values)
        rows.append(f"<tr><th>{escape(_name(g, URIRef(str(prop))))}</th><td>{cells}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def page(g: Graph, subject: URIRef, alternates: dict[str, str]) -> str:
    """The page of ``subject``; ``alternates``: media type → URL of the same document as RDF."""
    title = label(g, subject)
    descriptions = sorted(g.objects(subject, DCTERMS.description), key=lambda v: getattr(v, "language", "") != "zh")
    intro = "".join(f"<p>{escape(str(d))}</p>" for d in descriptions)
    others = sorted(
        {s for s in g.subjects(RDF.type, None) if isinstance(s, URIRef) and s != subject and _inside(s, subject)},
        key=str,
    )
    sections = "".join(
        f'<section id="{escape(s.split("#")[-1], quote=True)}"><h2>{escape(label(g, s))}</h2>{_table(g, s)}</section>'
        for s in others
    )
    links = " · ".join(f'<a href="{escape(url, quote=True)}">{escape(media)}</a>' for media, url in alternates.items())
    head = "".join(
        f'<link rel="alternate" type="{escape(media, quote=True)}" href="{escape(url, quote=True)}">'
        for media, url in alternates.items()
    )
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{head}</head><body>"
        f"<h1>{escape(title)}</h1><p><code>{escape(str(subject))}</code></p>{intro}"
        f"{_table(g, subject)}{sections}<p>RDF: {links}</p></body></html>"
    )


def _inside(node: URIRef, subject: URIRef) -> bool:
    """Resources a document describes besides its subject: its fragments and sub-paths."""
    return str(node).startswith(str(subject).split("#")[0] + "#") or str(node).startswith(str(subject) + "/")
