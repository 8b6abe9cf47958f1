"""The vocabulary document at /def/: classes and properties of the ontology graph, spec-style."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kusei.endpoint.web.pages import data as page_data
from kusei.endpoint.web.pages.terms import (
    LABEL_PREDICATES,
    RDF,
    RDF_TYPE,
    RDFS,
    SKOS,
    AnyTerm,
    Labels,
    Namer,
    add_standard_labels,
    lang_rank,
    lexical,
    natural_key,
)
from kusei.namespaces import DCTERMS, OWL, SH, terms
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
    href: str | None
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
    href: str | None = None  # the term's own resource page
    relations: list[Relation] = field(default_factory=list)
    instances: int | None = None
    uses: list[PropertyUse] = field(default_factory=list)  # classes: properties of their instances


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
    counts: dict[str, int] = {}
    for row in page_data.run(release, "instance-counts", settings=settings):
        cls, n = row.get("c"), row.get("n")
        if isinstance(cls, ox.NamedNode) and isinstance(n, ox.Literal):
            counts[cls.value] = int(n.value)
    return counts


def build_vocabulary(release: Release, namer: Namer, settings: Settings) -> Vocabulary:
    return release.memo("vocabulary", lambda: _build(release, namer, settings))


def _build(release: Release, namer: Namer, settings: Settings) -> Vocabulary:
    ontology = _Ontology.read(release, namer, settings)
    classes, properties = _terms(ontology)
    counts = release.memo("instance-counts", lambda: _instance_counts(release, settings))
    _add_neighbours(classes, properties, counts)
    class_property_uses(release, namer, settings, classes, _superclasses(ontology.triples, classes))
    return _document(ontology, classes, properties)


@dataclass
class _Ontology:
    """The ontology graph, by subject, with the links and definitions the document is made of."""

    namespace: str
    namer: Namer
    triples: list[ox.Triple]
    by_subject: dict[ox.NamedNode | ox.BlankNode | ox.Triple, list[ox.Triple]]
    labels: Labels

    @classmethod
    def read(cls, release: Release, namer: Namer, settings: Settings) -> _Ontology:
        ontology_graph = terms(release.base).graph("ontology").value
        triples = sorted(set(page_data.triples(release, "graph-triples", settings=settings, graph=ontology_graph)),
                         key=str)
        by_subject: dict[ox.NamedNode | ox.BlankNode | ox.Triple, list[ox.Triple]] = {}
        labels = Labels()
        labels.add_triples(triples)
        for triple in triples:
            by_subject.setdefault(triple.subject, []).append(triple)
        return cls(terms(release.base).vocab, namer, triples, by_subject, labels)

    def link(self, term: AnyTerm) -> list[TermLink]:
        if isinstance(term, ox.NamedNode):
            iri, namespace = term.value, self.namespace
            text = self.namer.curie(iri) or self.namer.short(iri)
            # Our terms link to their section of this page; standard terms link out to their spec.
            href = "#" + iri[len(namespace) :] if iri.startswith(namespace) and iri != namespace else iri
            return [TermLink(text, href, self.labels.best(iri))]
        if isinstance(term, ox.BlankNode):
            # owl:unionOf lists, as used for a domain of several classes.
            members = []
            for triple in self.by_subject.get(term, []):
                if triple.predicate.value == OWL + "unionOf":
                    members.extend(_rdf_list(self.by_subject, triple.object))
            return [piece for member in members for piece in self.link(member)]
        return [TermLink(lexical(term), None)]

    def definitions(self, subject: ox.NamedNode) -> list[tuple[str | None, str]]:
        found = [
            (t.object.language, t.object.value)
            for t in self.by_subject.get(subject, [])
            if t.predicate.value in DEFINITION_PREDICATES and isinstance(t.object, ox.Literal)
        ]
        return sorted(found, key=lambda item: lang_rank(item[0]))


def _terms(ontology: _Ontology) -> tuple[list[Term], list[Term]]:
    """The vocabulary's own classes and properties, in the graph's order."""
    classes: list[Term] = []
    properties: list[Term] = []
    for subject, own in ontology.by_subject.items():
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(ontology.namespace):
            continue
        types = {lexical(t.object) for t in own if t.predicate.value == RDF_TYPE}
        is_class = bool(types & CLASS_TYPES)
        kinds = [PROPERTY_TYPES[t] for t in sorted(types) if t in PROPERTY_TYPES]
        local = subject.value[len(ontology.namespace) :]
        if (not is_class and not kinds) or not local:
            continue
        (classes if is_class else properties).append(_term(ontology, subject, own, local,
                                                           "class" if is_class else ", ".join(kinds)))
    return classes, properties


def _term(ontology: _Ontology, subject: ox.NamedNode, own: list[ox.Triple], local: str, kind: str) -> Term:
    namer, labels = ontology.namer, ontology.labels
    term = Term(
        iri=subject.value,
        anchor=local,
        curie=namer.curie(subject.value) or subject.value,
        kind=kind,
        label_ja=labels.get(subject.value, "ja"),
        label_en=labels.get(subject.value, "en"),
        definitions=ontology.definitions(subject),
        href=namer.href(subject.value),
    )
    for predicate, label_ja, label_en in RELATIONS:
        links = [piece for t in own if t.predicate.value == predicate for piece in ontology.link(t.object)]
        if links:
            term.relations.append(Relation(label_ja, label_en, links))
    extra = [t for t in own if t.predicate.value not in SKIPPED | RELATION_PREDICATES]
    for triple in extra:
        text = namer.curie(triple.predicate.value) or triple.predicate.value
        term.relations.append(Relation(text, "", ontology.link(triple.object)))
    return term


def _add_neighbours(classes: list[Term], properties: list[Term], counts: dict[str, int]) -> None:
    """What a reader of a class wants next: the properties that apply to it, its subclasses and
    how many instances it has."""
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


def _superclasses(triples: list[ox.Triple], classes: list[Term]) -> dict[str, set[str]]:
    """Each class's superclasses, direct or not (rdfs:subClassOf followed to the top)."""
    superclasses: dict[str, set[str]] = {}
    parents: dict[str, set[str]] = {t.subject.value: set() for t in triples if isinstance(t.subject, ox.NamedNode)}
    for t in triples:
        if (t.predicate.value == RDFS + "subClassOf" and isinstance(t.subject, ox.NamedNode)
                and isinstance(t.object, ox.NamedNode)):
            parents[t.subject.value].add(t.object.value)
    for cls in classes:
        todo, seen = list(parents.get(cls.iri, ())), set()
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(parents.get(parent, ()))
        superclasses[cls.iri] = seen
    return superclasses


def _document(ontology: _Ontology, classes: list[Term], properties: list[Term]) -> Vocabulary:
    """The vocabulary with the ontology's own title, description and metadata, terms sorted."""
    namespace = ontology.namespace
    subject = ox.NamedNode(namespace)
    own = ontology.by_subject.get(subject, [])
    metadata: list[tuple[str, list[TermLink | str]]] = []
    for triple in own:
        pred = triple.predicate.value
        if pred in SKIPPED or pred == DCTERMS + "title":
            continue
        value: TermLink | str = (
            TermLink(triple.object.value, triple.object.value)
            if isinstance(triple.object, ox.NamedNode)
            else lexical(triple.object)
        )
        metadata.append((ontology.namer.curie(pred) or pred, [value]))
    titles = Labels()
    titles.add_triples(own)

    def term_key(term: Term) -> list:
        return natural_key(term.anchor.lower())

    return Vocabulary(
        iri=namespace,
        title_ja=titles.get(namespace, "ja"),
        title_en=titles.get(namespace, "en"),
        descriptions=ontology.definitions(subject),
        metadata=metadata,
        classes=sorted(classes, key=term_key),
        properties=sorted(properties, key=term_key),
        triples=ontology.triples,
    )


def _rdf_list(by_subject: dict, node: AnyTerm | None) -> list:
    members = []
    seen = set()
    while isinstance(node, ox.BlankNode) and node not in seen:
        seen.add(node)
        rest: AnyTerm | None = None
        for triple in by_subject.get(node, []):
            if triple.predicate.value == RDF + "first":
                members.append(triple.object)
            elif triple.predicate.value == RDF + "rest":
                rest = triple.object
        node = rest
    return members


# --- per class: the properties its instances carry, with cardinality and values from the shapes ---

@dataclass
class PropertyUse:
    """One property of a class's instances: how many values the shapes allow and of what kind."""

    link: TermLink
    cardinality: str  # "1", "0..1", "1..*", "0..*"; "—" where no shape speaks of it
    values: str  # datatype, class, languages or node kind, as the shapes state them
    inverse: bool = False


def _shape_uses(release: Release) -> dict[str, dict[tuple[str, bool], dict]]:
    """class IRI → (path IRI, inverse?) → merged constraints of every property shape that the
    class's own node shapes (by sh:targetClass) carry. Read from the release's shapes.ttl."""
    path = release.dumps_dir / "shapes.ttl"
    if not path.is_file():
        return {}
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)

    def values(node: object, predicate: str) -> list:
        return [t.object for t in by_subject.get(node, []) if t.predicate.value == SH + predicate]

    found: dict[str, dict[tuple[str, bool], dict]] = {}
    for node, own in by_subject.items():
        targets = [lexical(t.object) for t in own if t.predicate.value == SH + "targetClass"]
        if not targets:
            continue
        for prop in values(node, "property"):
            for path_node in values(prop, "path"):
                inverse = False
                if isinstance(path_node, ox.BlankNode):
                    inner = values(path_node, "inversePath")
                    if not inner or not isinstance(inner[0], ox.NamedNode):
                        continue  # sequence paths check consistency, not a property of the instance
                    path_node, inverse = inner[0], True
                if not isinstance(path_node, ox.NamedNode):
                    continue
                if not any(values(prop, k) for k in ("minCount", "maxCount", "datatype", "class", "languageIn",
                                                      "nodeKind", "in", "hasValue", "pattern")):
                    continue  # a SPARQL check or a comparison, not a statement of what the values are
                for cls in targets:
                    entry = found.setdefault(cls, {}).setdefault((path_node.value, inverse), {
                        "min": 0, "max": None, "kinds": set()})
                    for m in values(prop, "minCount"):
                        entry["min"] = max(entry["min"], int(m.value))
                    for m in values(prop, "maxCount"):
                        entry["max"] = int(m.value) if entry["max"] is None else min(entry["max"], int(m.value))
                    for key in ("datatype", "class"):
                        entry["kinds"].update(v.value for v in values(prop, key) if isinstance(v, ox.NamedNode))
                    for lst in values(prop, "languageIn"):
                        entry["kinds"].add("@" + " @".join(str(v.value) for v in _rdf_list(by_subject, lst)))
                    for kind in values(prop, "nodeKind"):
                        entry["kinds"].add(kind.value.rsplit("#", 1)[-1])
    return found


def _data_uses(release: Release, settings: Settings) -> dict[str, set[str]]:
    """class IRI → the properties its instances have in the merged default graph."""
    rows = page_data.run(release, "class-property-uses", settings=settings)
    uses: dict[str, set[str]] = {}
    for row in rows:
        cls, predicate = row.get("c"), row.get("p")
        if isinstance(cls, ox.NamedNode) and isinstance(predicate, ox.NamedNode):
            uses.setdefault(cls.value, set()).add(predicate.value)
    return uses


def _cardinality(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}..*"
    return str(low) if low == high else f"{low}..{high}"


def class_property_uses(release: Release, namer: Namer, settings: Settings, classes: list[Term],
                        superclasses: dict[str, set[str]]) -> None:
    """Fill each class's ``uses``: every property its instances carry in the data (Kusei's and
    the standard ones) and every one its shapes describe, with the shapes' cardinality and values.
    A shape on a superclass applies to the subclass too."""
    shapes = release.memo("shape-uses", lambda: _shape_uses(release))
    data = release.memo("data-uses", lambda: _data_uses(release, settings))
    namespace = terms(release.base).vocab
    for cls in classes:
        merged: dict[tuple[str, bool], dict] = {}
        for owner in (cls.iri, *sorted(superclasses.get(cls.iri, ()))):
            for key, entry in shapes.get(owner, {}).items():
                into = merged.setdefault(key, {"min": 0, "max": None, "kinds": set()})
                into["min"] = max(into["min"], entry["min"])
                if entry["max"] is not None:
                    into["max"] = entry["max"] if into["max"] is None else min(into["max"], entry["max"])
                into["kinds"] |= entry["kinds"]
        used = data.get(cls.iri, set()) - {RDF_TYPE}
        rows = []
        for (prop, inverse), entry in merged.items():
            if inverse:
                continue  # kept apart below, after the class's own properties
            rows.append((prop, False, _cardinality(entry["min"], entry["max"]), entry["kinds"]))
        rows += [(prop, False, "—", set()) for prop in used if (prop, False) not in merged]
        rows += [(prop, True, _cardinality(e["min"], e["max"]), e["kinds"])
                 for (prop, inverse), e in merged.items() if inverse]

        def show(iri: str) -> TermLink:
            href = "#" + iri[len(namespace):] if iri.startswith(namespace) else iri
            return TermLink(namer.curie(iri) or iri, href)

        cls.uses = [
            PropertyUse(show(prop), card, ", ".join(namer.curie(k) or k for k in sorted(kinds)), inverse)
            for prop, inverse, card, kinds in sorted(rows, key=lambda r: (r[1], namer.curie(r[0]) or r[0]))
        ]


def vocabulary_labels(release: Release, settings: Settings) -> tuple[Labels, dict[str, str]]:
    """Labels and English comments of every term the ontology graph describes, cached per release."""

    def compute() -> tuple[Labels, dict[str, str]]:
        labels = Labels()
        comments: dict[str, tuple[int, str]] = {}
        ontology_graph = terms(release.base).graph("ontology").value
        for triple in page_data.triples(release, "graph-triples", settings=settings, graph=ontology_graph):
            subject, pred, obj = triple.subject, triple.predicate.value, triple.object
            if not isinstance(subject, ox.NamedNode) or not isinstance(obj, ox.Literal):
                continue
            if pred in LABEL_PREDICATES:
                labels.add(subject.value, pred, obj)
            elif pred in (RDFS + "comment", SKOS + "definition"):
                # English first: the tooltip reads alongside the CURIE, which is Latin script.
                rank = 0 if obj.language == "en" else 1
                if subject.value not in comments or rank < comments[subject.value][0]:
                    comments[subject.value] = (rank, obj.value)
        add_standard_labels(labels)
        return labels, {iri: text for iri, (_, text) in comments.items()}

    return release.memo("vocabulary-labels", compute)
