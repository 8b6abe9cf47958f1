"""The model of a resource page: labels, properties, incoming links, breadcrumbs, source lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.web.pages import data
from kusei.endpoint.web.pages.terms import (
    DCTERMS,
    LABEL_PREDICATES,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SKOS,
    AnyTerm,
    Labels,
    Namer,
    lang_rank,
    natural_key,
)
from kusei.endpoint.web.pages.vocabulary import vocabulary_labels
from kusei.namespaces import ORG, PROV, SDMX_DIM, XSD, terms
from kusei.release import Release
from kusei.settings import Settings

PROV_ENTITY = PROV + "entity"
# Properties shown first, in this order; the rest follow by CURIE.
LEADING = (RDF_TYPE, RDFS + "label", SKOS + "prefLabel", SCHEMA + "name", DCTERMS + "title")
# Incoming links listed per property on the page; the count says how many there are in all.
INCOMING_SHOWN = 50
# A plan spans a hundred lines or more; past this the page links to the document instead.
SOURCE_LINES_SHOWN = 60
Obj = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class Value:
    kind: str  # "iri", "bnode" or "literal"
    text: str
    href: str | None = None
    note: str | None = None  # CURIE or IRI of a resource; datatype of a literal
    lang: str | None = None
    rows: list[PropertyRow] = field(default_factory=list)  # a blank node's own properties


@dataclass
class PropertyRow:
    iri: str
    href: str | None
    curie: str
    label_ja: str | None
    label_en: str | None
    comment: str | None
    values: list[Value] = field(default_factory=list)
    count: int = 0  # incoming links: how many in all
    more_href: str | None = None


@dataclass
class Crumb:
    text: str
    href: str


@dataclass
class SourceQuote:
    document_href: str | None
    document_title: str
    file_name: str
    first: int
    last: int
    lines: list[tuple[int, str]]
    truncated: bool


@dataclass
class ResourceView:
    iri: str
    label_ja: str | None
    label_en: str | None
    types: list[Value]
    rows: list[PropertyRow]
    incoming: list[PropertyRow]
    crumbs: list[Crumb]
    sources: list[SourceQuote]
    document_lines: list[tuple[int, str]]  # the whole text, on a source document's own page
    graph_size: int | None  # number of triples, when the IRI names a graph
    vocabulary_anchor: str | None  # "#Term" in /def/, for vocabulary terms
    triples: list[ox.Triple]


def parent_links(base: str) -> tuple[str, ...]:
    """The links from a resource to its parents, most telling first: the crumbs follow the first
    one present. The page query "ancestors" walks the same links (keep the two alike)."""
    kusei = terms(base).vocab
    return (DCTERMS + "isPartOf", kusei + "itemOf", kusei + "measure", kusei + "plan", kusei + "mascotOf",
            SDMX_DIM + "refArea", ORG + "subOrganizationOf", kusei + "jurisdiction", DCTERMS + "spatial")


def _chunks(iris: list[str], budget: int) -> Iterator[list[str]]:
    """``iris`` in runs whose VALUES text stays within ``budget`` characters.

    A page linked from hundreds of resources (a class such as kusei:Printing) would otherwise
    build one query longer than the endpoint accepts, and answer 413 itself.
    """
    chunk: list[str] = []
    size = 0
    for iri in iris:
        if chunk and size + len(iri) + 3 > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(iri)
        size += len(iri) + 3
    if chunk:
        yield chunk


class ResourceBuilder:
    def __init__(self, release: Release, namer: Namer, settings: Settings) -> None:
        self.release = release
        self.settings = settings
        self.namer = namer
        self.term_labels, self.term_comments = vocabulary_labels(release, settings)
        self.labels = Labels()

    # -- terms -------------------------------------------------------------------------------
    def value(self, term: AnyTerm, blanks: dict) -> Value:
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            note = None
            if not term.language and datatype != XSD + "string":
                note = self.namer.short(datatype)
            return Value("literal", term.value, lang=term.language, note=note)
        if isinstance(term, ox.BlankNode):
            return Value("bnode", "", rows=self.rows(blanks.get(term, []), blanks, nested=True))
        if isinstance(term, ox.NamedNode):
            iri = term.value
            label = self.labels.best(iri) or self.term_labels.best(iri)
            short = self.namer.short(iri)
            return Value("iri", label or short, href=self.namer.href(iri), note=short if label else None)
        return Value("literal", str(term))

    def property_row(self, iri: str) -> PropertyRow:
        return PropertyRow(
            iri=iri,
            href=self.namer.href(iri),
            curie=self.namer.curie(iri) or iri,
            label_ja=self.term_labels.get(iri, "ja"),
            label_en=self.term_labels.get(iri, "en"),
            comment=self.term_comments.get(iri),
        )

    def rows(self, triples: list[ox.Triple], blanks: dict, *, nested: bool = False) -> list[PropertyRow]:
        grouped: dict[str, list[ox.Triple]] = {}
        for triple in triples:
            grouped.setdefault(triple.predicate.value, []).append(triple)

        def order(pred: str) -> tuple[int, str]:
            rank = LEADING.index(pred) if pred in LEADING else len(LEADING)
            return rank, self.namer.curie(pred) or pred

        rows = []
        for pred in sorted(grouped, key=order):
            row = self.property_row(pred)
            objects = [t.object for t in grouped[pred]]
            objects.sort(key=self._object_order)
            row.values = [self.value(obj, blanks) for obj in objects]
            row.count = len(objects)
            rows.append(row)
        return rows

    def _object_order(self, term: AnyTerm) -> tuple:
        if isinstance(term, ox.Literal):
            return (1, lang_rank(term.language), natural_key(term.value))
        if isinstance(term, ox.NamedNode):
            # By IRI, numbers compared as numbers: measures and projects come out in print order.
            return (0, 0, natural_key(term.value))
        return (2, 0, [])

    # -- page parts --------------------------------------------------------------------------
    # Each query is a round trip to a query process; a page asks a few batched ones rather than
    # one per linked resource, printing or parent.
    def _objects_of(self, subjects: Iterable[str], predicates: Iterable[str]) -> dict[tuple[str, str], list[Obj]]:
        """The objects of every (subject, predicate) pair given, in one query, in page order."""
        subject_list, predicate_list = sorted(set(subjects)), list(dict.fromkeys(predicates))
        if not subject_list or not predicate_list:
            return {}
        rows = []
        for chunk in _chunks(subject_list, self.settings.max_query_length // 2):
            rows += data.run(self.release, "objects-of", settings=self.settings,
                             subjects=chunk, predicates=frozenset(predicate_list))
        found: dict[tuple[str, str], set[Obj]] = {}
        for row in rows:
            subject, predicate, obj = row.get("s"), row.get("p"), row.get("o")
            if isinstance(subject, ox.NamedNode) and isinstance(predicate, ox.NamedNode) and isinstance(
                obj, ox.NamedNode | ox.BlankNode | ox.Literal
            ):
                found.setdefault((subject.value, predicate.value), set()).add(obj)
        return {key: sorted(objs, key=self._object_order) for key, objs in found.items()}

    def _learn_labels(self, iris: Iterable[str], predicates: Iterable[str] = LABEL_PREDICATES) -> None:
        """Fetch, in one query, the labels of those of ``iris`` that have none yet."""
        missing = [iri for iri in set(iris) if self.labels.best(iri) is None]
        for (iri, pred), objects in self._objects_of(missing, predicates).items():
            for obj in objects:
                if isinstance(obj, ox.Literal):
                    self.labels.add(iri, pred, obj)

    def _label_of(self, iri: str) -> str:
        return self.labels.best(iri) or self.namer.short(iri)

    def crumbs(self, iri: str) -> list[Crumb]:
        """Ward → plan → measure → project → item: the chain of parents above the resource."""
        parents = parent_links(self.release.base)
        # Every parent link of every ancestor, in one query; the walk below picks the chain.
        rows = data.run(self.release, "ancestors", settings=self.settings, resource=iri)
        links: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            ancestor, predicate, obj = row.get("a"), row.get("p"), row.get("o")
            if isinstance(ancestor, ox.NamedNode) and isinstance(predicate, ox.NamedNode) and isinstance(
                obj, ox.NamedNode
            ):
                links.setdefault((ancestor.value, predicate.value), []).append(obj.value)
        chain: list[tuple[str, str]] = []
        seen = {iri}
        current = iri
        for _ in range(8):
            parent = next(
                (min(links[current, p], key=natural_key) for p in parents if (current, p) in links), None
            )
            href = self.namer.local_path(parent) if parent is not None else None
            if parent is None or parent in seen or href is None:
                break
            seen.add(parent)
            chain.append((parent, href))
            current = parent
        self._learn_labels(parent for parent, _ in chain)
        return [Crumb(self._label_of(parent), href) for parent, href in reversed(chain)]

    def _document_lines(self, names: Iterable[str]) -> tuple[str, list[str]] | None:
        for name in names:
            # The file name comes from the data; only a plain name may reach the file system.
            if not re.fullmatch(r"[\w][\w.-]*", name) or ".." in name:
                continue
            path = Path(self.release.sources_dir) / name
            if path.is_file():
                # str.splitlines, as the build numbers lines (graph/textmatch.py).
                return name, path.read_text(encoding="utf-8").splitlines()
        return None

    def sources(self, own: list[ox.Triple]) -> list[SourceQuote]:
        """One excerpt per printing of the resource (``own``: its triples): each document with its own lines."""
        kusei = terms(self.release.base).vocab
        printings = [t.object.value for t in own
                     if t.predicate.value == kusei + "printing" and isinstance(t.object, ox.NamedNode)]
        facts = self._objects_of(printings, (PROV_ENTITY, kusei + "firstLine", kusei + "lastLine"))
        documents = {
            objects[0].value
            for (_, pred), objects in facts.items()
            if pred == PROV_ENTITY and isinstance(objects[0], ox.NamedNode)
        }
        about = self._objects_of(documents, (kusei + "fileName", DCTERMS + "title"))
        self._learn_labels(doc for doc in documents if (doc, DCTERMS + "title") not in about)
        quotes = []
        for printing in printings:
            entity = facts.get((printing, PROV_ENTITY), [])
            first = facts.get((printing, kusei + "firstLine"), [])
            last = facts.get((printing, kusei + "lastLine"), [])
            if not entity or not isinstance(entity[0], ox.NamedNode) or not first:
                continue
            try:
                start = int(first[0].value)
                end = int(last[0].value) if last else start
            except ValueError:
                continue
            document = entity[0].value
            document_href = self.namer.local_path(document)
            found = self._document_lines(o.value for o in about.get((document, kusei + "fileName"), []))
            if found is None or document_href is None:
                continue
            name, lines = found
            shown_end = min(end, start + SOURCE_LINES_SHOWN - 1)
            numbered = [(n, lines[n - 1]) for n in range(start, shown_end + 1) if 0 < n <= len(lines)]
            titles = [o.value for o in about.get((document, DCTERMS + "title"), [])]
            quotes.append(
                SourceQuote(
                    document_href=document_href,
                    document_title=titles[0] if titles else self._label_of(document),
                    file_name=name,
                    first=start,
                    last=end,
                    lines=numbered,
                    truncated=shown_end < end,
                )
            )
        return sorted(quotes, key=lambda q: (q.file_name, q.first))

    def incoming(
        self, iri: str, triples: list[ox.Triple], blanks: dict, shown: frozenset[str] = frozenset()
    ) -> list[PropertyRow]:
        """Incoming links, less those from resources the page already shows (``shown``).

        A measure lists its projects under dcterms:hasPart; their isPartOf and kusei:measure
        links back are the same fact seen from the other end, and would list them twice more.
        """
        counts = {row["p"].value: int(row["n"].value)
                  for row in data.run(self.release, "incoming-counts", settings=self.settings, target=iri)}
        grouped: dict[str, list[ox.Triple]] = {}
        for triple in triples:
            grouped.setdefault(triple.predicate.value, []).append(triple)
        rows = []
        for pred in sorted(counts, key=lambda p: self.namer.curie(p) or p):
            row = self.property_row(pred)
            all_subjects = {t.subject for t in grouped.get(pred, [])}
            subjects = sorted(
                (s for s in all_subjects if not (isinstance(s, ox.NamedNode) and s.value in shown)),
                key=self._object_order,
            )
            hidden = len(all_subjects) - len(subjects)
            if counts[pred] - hidden <= 0:
                continue
            row.values = [self.value(s, blanks) for s in subjects[:INCOMING_SHOWN]]
            row.count = counts[pred] - hidden
            if row.count > len(row.values):
                query = (
                    "SELECT ?s ?label WHERE {\n"
                    f"  ?s <{pred}> <{iri}> .\n"
                    "  OPTIONAL { ?s rdfs:label ?label FILTER(lang(?label) = \"ja\") }\n"
                    "} ORDER BY ?s"
                )
                row.more_href = "/query?" + urlencode({"query": query})
            rows.append(row)
        return rows

    def _add_fallback_labels(self, triples: list[ox.Triple]) -> None:
        # describe() brings rdfs:label and skos:prefLabel; things named only by a title or a
        # schema:name (distributions, contact points) would otherwise show as bare paths.
        linked = {
            term.value
            for t in triples
            for term in (t.subject, t.object)
            if isinstance(term, ox.NamedNode)
        }
        self._learn_labels(linked, (SCHEMA + "name", DCTERMS + "title"))

    def graph_size(self, iri: str) -> int | None:
        node = ox.NamedNode(iri)

        def count() -> int | None:
            rows = data.run(self.release, "graph-size", settings=self.settings, graph=node)
            found = rows[0].get("n") if rows else None
            n = int(found.value) if isinstance(found, ox.Literal) else 0
            return n or None  # the store keeps no empty graphs: none of this name

        return self.release.memo("graph-size " + iri, count)

    def build(self, iri: str, shown: frozenset[str] = frozenset()) -> ResourceView:
        """The page model of ``iri``; ``shown`` names resources another part of the page lists."""
        triples = service.describe(self.release, [iri], settings=self.settings)
        self.labels.add_triples(triples)
        self._add_fallback_labels(triples)
        node = ox.NamedNode(iri)
        own = [t for t in triples if t.subject == node]
        vocabulary_file = terms(self.release.base).kusei("fileName").value
        blanks: dict[ox.BlankNode, list[ox.Triple]] = {}
        for triple in triples:
            if isinstance(triple.subject, ox.BlankNode):
                blanks.setdefault(triple.subject, []).append(triple)
        incoming = [t for t in triples if t.object == node and t.subject != node]
        own_objects = frozenset(t.object.value for t in own if isinstance(t.object, ox.NamedNode))
        types = [self.value(t.object, blanks) for t in own if t.predicate.value == RDF_TYPE]
        rows = self.rows([t for t in own if t.predicate.value != RDF_TYPE], blanks)

        document = self._document_lines(
            t.object.value for t in own if t.predicate.value == vocabulary_file and isinstance(t.object, ox.Literal))
        vocabulary = terms(self.release.base).vocab
        anchor = None
        if iri.startswith(vocabulary) and len(iri) > len(vocabulary):
            anchor = "#" + iri[len(vocabulary) :]
        return ResourceView(
            iri=iri,
            label_ja=self.labels.get(iri, "ja") or self.term_labels.get(iri, "ja"),
            label_en=self.labels.get(iri, "en") or self.term_labels.get(iri, "en"),
            types=types,
            rows=rows,
            incoming=self.incoming(iri, incoming, blanks, shown | own_objects),
            crumbs=self.crumbs(iri),
            sources=self.sources(own),
            document_lines=list(enumerate(document[1], start=1)) if document else [],
            graph_size=self.graph_size(iri),
            vocabulary_anchor=anchor,
            triples=triples,
        )
