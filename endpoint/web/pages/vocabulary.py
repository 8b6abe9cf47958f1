"""The vocabulary document at /def/: classes and properties of the ontology graph, spec-style."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.web.pages.terms import RDF, RDF_TYPE, RDFS, SKOS, Labels, Namer, lang_rank, natural_key
from kusei.namespaces import OWL
from kusei.release import Release
from kusei.settings import Settings

CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
PROPERTY_TYPES = {
    OWL + "ObjectProperty": "object property",
    OWL + "DatatypeProperty": "datatype property",
    OWL + "AnnotationProperty": "annotation property",
    RDF + "Property": "property",
}
DEFINITION_PREDICATES = (SKOS + "definition", RDFS + "comment")
# Relations shown as their own lines, in this order, with the words a spec reader expects.
RELATIONS = (
    (RDFS + "subClassOf", "上位クラス", "Subclass of"),
    (OWL + "equivalentClass", "同値クラス", "Equivalent to"),
    (RDFS + "subPropertyOf", "上位プロパティ", "Subproperty of"),
    (OWL + "equivalentProperty", "同値プロパティ", "Equivalent to"),
    (OWL + "inverseOf", "逆プロパティ", "Inverse of"),
    (RDFS + "domain", "定義域", "Domain"),
    (RDFS + "range", "値域", "Range"),
)
RELATION_PREDICATES = {predicate for predicate, _, _ in RELATIONS}
SKIPPED = {RDF_TYPE, RDFS + "label", SKOS + "prefLabel", RDFS + "isDefinedBy", *DEFINITION_PREDICATES}


@dataclass
class TermLink:
    text: str
    href: str
    title: str | None = None


@dataclass
class Relation:
    label_ja: str
    label_en: str
    links: list[TermLink]


@dataclass
class Term:
    iri: str
    anchor: str
    curie: str
    kind: str
    label_ja: str | None
    label_en: str | None
    definitions: list[tuple[str | None, str]]
    href: str = ""  # the term's own resource page
    relations: list[Relation] = field(default_factory=list)
    instances: int | None = None


@dataclass
class Vocabulary:
    iri: str
    title_ja: str | None
    title_en: str | None
    descriptions: list[tuple[str | None, str]]
    metadata: list[tuple[str, list[TermLink | str]]]
    classes: list[Term]
    properties: list[Term]
    triples: list[ox.Triple]


def _instance_counts(release: Release, settings: Settings) -> dict[str, int]:
    query = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"
    rows = service.select(release, query, settings=settings)
    return {row["c"].value: int(row["n"].value) for row in rows if isinstance(row.get("c"), ox.NamedNode)}


def build_vocabulary(release: Release, namer: Namer, settings: Settings) -> Vocabulary:
    return release.memo("vocabulary", lambda: _build(release, namer, settings))


def _build(release: Release, namer: Namer, settings: Settings) -> Vocabulary:
    namespace = release.base + "/def/"
    triples = sorted(set(service.graph_triples(release, release.base + "/graph/ontology", settings=settings)),
                     key=str)
    by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
    labels = Labels()
    labels.add_triples(triples)
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)

    def link(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> list[TermLink]:
        if isinstance(term, ox.NamedNode):
            iri = term.value
            text = namer.curie(iri) or namer.short(iri)
            # Our terms link to their section of this page; standard terms link out to their spec.
            href = "#" + iri[len(namespace) :] if iri.startswith(namespace) and iri != namespace else iri
            return [TermLink(text, href, labels.best(iri))]
        if isinstance(term, ox.BlankNode):
            # owl:unionOf lists, as used for a domain of several classes.
            members = []
            for triple in by_subject.get(term, []):
                if triple.predicate.value == OWL + "unionOf":
                    members.extend(_rdf_list(by_subject, triple.object))
            return [piece for member in members for piece in link(member)]
        return [TermLink(term.value, "")]

    def definitions(subject: ox.NamedNode) -> list[tuple[str | None, str]]:
        found = [
            (t.object.language, t.object.value)
            for t in by_subject.get(subject, [])
            if t.predicate.value in DEFINITION_PREDICATES and isinstance(t.object, ox.Literal)
        ]
        return sorted(found, key=lambda item: lang_rank(item[0]))

    counts = release.memo("instance-counts", lambda: _instance_counts(release, settings))
    classes: list[Term] = []
    properties: list[Term] = []
    for subject, own in by_subject.items():
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(namespace):
            continue
        types = {t.object.value for t in own if t.predicate.value == RDF_TYPE}
        is_class = bool(types & CLASS_TYPES)
        kinds = [PROPERTY_TYPES[t] for t in sorted(types) if t in PROPERTY_TYPES]
        if not is_class and not kinds:
            continue
        local = subject.value[len(namespace) :]
        if not local:
            continue
        term = Term(
            iri=subject.value,
            anchor=local,
            curie=namer.curie(subject.value) or subject.value,
            kind="class" if is_class else ", ".join(kinds),
            label_ja=labels.get(subject.value, "ja"),
            label_en=labels.get(subject.value, "en"),
            definitions=definitions(subject),
            href=namer.href(subject.value),
        )
        for predicate, label_ja, label_en in RELATIONS:
            links = [piece for t in own if t.predicate.value == predicate for piece in link(t.object)]
            if links:
                term.relations.append(Relation(label_ja, label_en, links))
        extra = [t for t in own if t.predicate.value not in SKIPPED | RELATION_PREDICATES]
        for triple in extra:
            text = namer.curie(triple.predicate.value) or triple.predicate.value
            term.relations.append(Relation(text, "", link(triple.object)))
        (classes if is_class else properties).append(term)

    # What a reader of a class wants next: the properties that apply to it and its subclasses.
    for cls in classes:
        uses = [
            TermLink(p.curie, "#" + p.anchor, p.label_en)
            for p in properties
            for rel in p.relations
            if rel.label_en == "Domain" and any(ln.href == "#" + cls.anchor for ln in rel.links)
        ]
        if uses:
            cls.relations.append(Relation("このクラスを定義域とするプロパティ", "Properties", uses))
        subclasses = [
            TermLink(c.curie, "#" + c.anchor, c.label_en)
            for c in classes
            for rel in c.relations
            if rel.label_en == "Subclass of" and any(ln.href == "#" + cls.anchor for ln in rel.links)
        ]
        if subclasses:
            cls.relations.append(Relation("下位クラス", "Subclasses", subclasses))
        cls.instances = counts.get(cls.iri, 0)

    ontology = ox.NamedNode(namespace)
    own = by_subject.get(ontology, [])
    metadata: list[tuple[str, list[TermLink | str]]] = []
    for triple in own:
        pred = triple.predicate.value
        if pred in SKIPPED or pred == "http://purl.org/dc/terms/title":
            continue
        value: TermLink | str = (
            TermLink(triple.object.value, triple.object.value)
            if isinstance(triple.object, ox.NamedNode)
            else triple.object.value
        )
        metadata.append((namer.curie(pred) or pred, [value]))
    titles = Labels()
    titles.add_triples(own)

    def term_key(term: Term) -> list:
        return natural_key(term.anchor.lower())

    return Vocabulary(
        iri=namespace,
        title_ja=titles.get(namespace, "ja"),
        title_en=titles.get(namespace, "en"),
        descriptions=definitions(ontology),
        metadata=metadata,
        classes=sorted(classes, key=term_key),
        properties=sorted(properties, key=term_key),
        triples=triples,
    )


def _rdf_list(by_subject: dict, node: ox.NamedNode | ox.BlankNode | ox.Literal) -> list:
    members = []
    seen = set()
    while isinstance(node, ox.BlankNode) and node not in seen:
        seen.add(node)
        rest = None
        for triple in by_subject.get(node, []):
            if triple.predicate.value == RDF + "first":
                members.append(triple.object)
            elif triple.predicate.value == RDF + "rest":
                rest = triple.object
        node = rest
    return members
