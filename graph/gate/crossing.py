"""Which nodes the validation of the merged graph must judge: those whose validation can come out
differently in the merge of all documents than in the per-document runs.

The gate first validates each document graph ("part") with the shared graphs (reference,
interpretation, editorial statements about the graphs), as if with all of them
(``validate.validate_graphs``). The merged default graph U is every part plus the shared triples S.
A focus node's validation reads a bounded set of triples around it, set by the shapes; if every
triple it reads is in S or in one part Di, it reads the same in U as in Di ∪ S, and the per-document
run already found whatever U would find about it. So the merged-graph run needs to judge only the
nodes whose reads can reach a triple of a second part, or of a part whose run did not judge them;
it judges them on the whole of U (pyshacl's ``focus_nodes``), so every triple they read is there.

What a shape reads was established from ``shapes/kusei-shapes.ttl``:

- Core constraints on a path of one step (``sh:path p``, ``[sh:inversePath p]``, alternatives of
  single steps) read the focus node's own triples: rule ``own`` below.
- ``sh:class`` (alone or inside ``sh:or``) reads the types of the values. More types can only
  satisfy it, so the merge cannot fail a class check that every document passed: no rule needed.
- ``FILTER NOT EXISTS`` in a SPARQL constraint can only be satisfied by more data: the parts of
  TextCorrection-printedText-printed, SourceDocument-printingsOwned and SourceDocument-labels
  beyond the focus node's own triples need no rule.
- The rest read two or more steps away, and each has a rule in ``MULTI_STEP`` (shape local name →
  the rule that covers it). A shape that reads further than one step and is not listed makes the
  merged-graph run judge every node (``uncovered_shapes``), so a new shape is never skipped
  unanalysed; tests/unit/test_validate_scaling.py checks that today's shapes are all covered.

Rules, for a node f; "touched by a part" means the part has a triple with f as subject or object,
"described by a part" means as subject:

- ``own``: f is touched by two or more parts, or by one part that does not describe it (that part's
  run judged f only if f is a subject there). Shared entities (wards, offices, sections, mascots,
  online accounts, fiscal years, Medium-Term Plan concepts cited by several plans) fall here.
- ``shared-reads-documents``: f is described by no part (it lives in the shared graphs), and a
  node one step from it, either way, is described by some part. The per-document run judges such
  an f only alongside a part whose subjects it points at, and the shared run judges it with no
  part at all; a constraint that reads two steps (the city over its wards' codes, a continuation
  over the plans of its two components, a fiscal year over its instants) may see document data
  there. Continuations, the city and the fiscal years and policy areas cited by documents fall here.
- ``plan-components``: a plan's uniqueness checks read its components' types, numbers, positions
  and parents (Plan-measureNumbers-unique, -measurePositions-, -projectPositions-, -itemPositions-)
  and the siblings under each parent; and Plan-fiscalYear-consistent reads its fiscal year and that
  year's instants. The plan is judged if a component, a sibling, its fiscal year or an instant is
  described by a part other than the plan's, or a parent is touched by one.
- ``project-parent``: Project-measure-samePlan reads the plan of the project's measure or banner.
- ``document-printings``: SourceDocument-linesWithin and SourceDocument-printings read the printing
  nodes that name the document (their lines, their owners). The document is judged if one of them
  is touched by a part other than the document's.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox
import rdflib

from kusei.namespaces import PROV, SH, TIME, TYPE

RDF_TYPE = TYPE.value

# Shapes that read beyond the focus node's own triples, and the rule that covers each.
MULTI_STEP = {
    "City-code-checkDigit": "own",  # its own code only; SPARQL, but one step
    "City-wardCodes-checkDigit": "shared-reads-documents",
    "City-wardCodes-eStat": "shared-reads-documents",
    "MTPScheme-notations": "shared-reads-documents",
    "FiscalYear-instants": "shared-reads-documents",  # sh:node DatedInstant over the instants
    "Continuation-sameWard": "shared-reads-documents",
    "Plan-fiscalYear-consistent": "plan-components",
    "Plan-measureNumbers-unique": "plan-components",
    "Plan-measurePositions-unique": "plan-components",
    "Plan-projectPositions-unique": "plan-components",
    "Plan-itemPositions-unique": "plan-components",
    "Plan-inferenceNote-required": "own",  # NOT EXISTS on its own note
    "Project-measure-samePlan": "project-parent",
    "SourceDocument-linesWithin": "document-printings",
    "SourceDocument-printings": "document-printings",
    "SourceDocument-fileName-matchesIRI": "own",
    # A qualified value shape (in-english) judged on each value itself, a literal: one step.
    "SourceDocument-origin": "own",
    "SourceDocument-licenceNote": "own",
    "SourceDocument-printingsOwned": "own",  # beyond one step only under NOT EXISTS
    "SourceDocument-labels": "own",  # beyond one step only under NOT EXISTS
    "TextCorrection-printedText-printed": "own",  # beyond one step only under NOT EXISTS
    "PopulationObservation-households-plausible": "own",
    "ActionItem-itemOf": "own",  # sh:or of sh:class: types only
}

_SH = rdflib.Namespace(SH)
# Constraint parameters whose value is a shape or a list of shapes, read on the value nodes.
_NESTED = (_SH["node"], _SH["or"], _SH["and"], _SH["xone"], _SH["not"], _SH["qualifiedValueShape"],
           _SH["property"])


def _one_step(shapes: rdflib.Graph, path: rdflib.term.Node) -> bool:
    """A predicate, its inverse, or alternatives of those: anything else (a sequence, a repeated
    path) reads beyond the focus node's own triples."""
    if isinstance(path, rdflib.URIRef):
        return True
    inverse = shapes.value(path, _SH["inversePath"])
    if inverse is not None:
        return isinstance(inverse, rdflib.URIRef)
    alternatives = shapes.value(path, _SH["alternativePath"])
    if alternatives is not None:
        return all(_one_step(shapes, member) for member in rdflib.collection.Collection(shapes, alternatives))
    return False


def _reaches_further(shapes: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    """Whether a property shape reads beyond its focus node's own triples and its values' types."""
    if (shape, _SH["sparql"], None) in shapes:
        return True
    path = shapes.value(shape, _SH["path"])
    if path is not None and not _one_step(shapes, path):
        return True
    nested = [o for p in _NESTED if p != _SH["property"] for o in shapes.objects(shape, p)]
    for value in nested:
        members = list(rdflib.collection.Collection(shapes, value)) if (
            value, rdflib.RDF.first, None) in shapes else [value]
        for member in members:
            # sh:or ( [ sh:class C ] … ) reads the values' types only, as sh:class does.
            if set(shapes.predicates(member)) - {_SH["class"], rdflib.RDF.type}:
                return True
    return False


def vocabulary(shapes: rdflib.Graph) -> str:
    """The vocabulary namespace the shapes were rebased to: their ontology is ``{vocabulary}shapes/``."""
    for node in shapes.subjects(rdflib.RDF.type, rdflib.OWL.Ontology):
        if str(node).endswith("/def/shapes/"):
            return str(node).removesuffix("shapes/")
    raise ValueError("the shapes graph names no ontology …/def/shapes/")


def uncovered_shapes(shapes: rdflib.Graph) -> list[str]:
    """Shapes that read further than one step and that no rule of this module covers."""
    prefix = vocabulary(shapes) + "shapes/"
    found = []
    candidates = {s for p in (_SH["path"], _SH["sparql"], *_NESTED) if p != _SH["property"]
                  for s in shapes.subjects(p, None)}
    for shape in candidates:
        if _reaches_further(shapes, shape) and str(shape).removeprefix(prefix) not in MULTI_STEP:
            found.append(str(shape))
    return sorted(found)


# A node of the merged graph as the merged-graph run sees it: an IRI, or a blank node of one part
# (or of the shared graphs, part -1). Each part is read into the merge on its own, and a blank
# node's label is local to what is read, so equal labels in two parts are two nodes there.
Node = ox.NamedNode | tuple[int, str]


def _node(term: ox.NamedNode | ox.BlankNode | ox.Triple, part: int) -> Node:
    if isinstance(term, ox.Triple):
        raise TypeError(f"a quoted triple as a subject: {term}")  # the build writes none
    return term if isinstance(term, ox.NamedNode) else (part, term.value)


class _Index:
    def __init__(self, parts: list[list[ox.Triple]], shared: list[ox.Triple]) -> None:
        self.touched: dict[Node, set[int]] = defaultdict(set)
        self.described: dict[Node, set[int]] = defaultdict(set)
        self.forward: dict[Node, list[tuple[str, Node]]] = defaultdict(list)
        self.inverse: dict[Node, list[tuple[str, Node]]] = defaultdict(list)
        for index, triples in enumerate(parts):
            for t in triples:
                subject = _node(t.subject, index)
                self.touched[subject].add(index)
                self.described[subject].add(index)
                if isinstance(t.object, ox.NamedNode | ox.BlankNode):
                    obj = _node(t.object, index)
                    self.touched[obj].add(index)
                    self._link(subject, t.predicate.value, obj)
        for t in shared:
            if isinstance(t.object, ox.NamedNode | ox.BlankNode):
                self._link(_node(t.subject, -1), t.predicate.value, _node(t.object, -1))

    def _link(self, subject: Node, predicate: str, obj: Node) -> None:
        self.forward[subject].append((predicate, obj))
        self.inverse[obj].append((predicate, subject))

    def objects(self, node: Node, *predicates: str) -> list[Node]:
        return [o for p, o in self.forward.get(node, ()) if p in predicates]

    def subjects(self, node: Node, *predicates: str) -> list[Node]:
        return [s for p, s in self.inverse.get(node, ()) if p in predicates]

    def has_type(self, node: Node, cls: str) -> bool:
        return any(p == RDF_TYPE and o == ox.NamedNode(cls) for p, o in self.forward.get(node, ()))


def _beyond(parts: set[int], home: set[int]) -> bool:
    return bool(parts - home)


def crossing_nodes(parts: list[list[ox.Triple]], shared: list[ox.Triple], vocab: str) -> set[Node]:
    """The nodes the merged-graph run must judge (the module's rules, each named where applied);
    ``vocab`` is the namespace of Kusei's classes and properties in this build."""
    index = _Index(parts, shared)
    touched, described = index.touched, index.described
    chosen: set[Node] = set()
    # own
    for node, where in touched.items():
        if len(where) > 1 or not (where <= described.get(node, set())):
            chosen.add(node)
    # shared-reads-documents
    for node in set(index.forward) | set(index.inverse):
        if node in described:
            continue
        neighbours = [o for _p, o in index.forward.get(node, ())] + [s for _p, s in index.inverse.get(node, ())]
        if any(n in described for n in neighbours):
            chosen.add(node)
    # plan-components, project-parent, document-printings: nodes described by one part only
    for node, home in described.items():
        if len(home) != 1:
            continue  # judged by "own" already
        if index.has_type(node, vocab + "Plan"):
            components = index.subjects(node, vocab + "plan")
            parents = [p for c in components for p in index.objects(c, vocab + "measure", vocab + "banner",
                                                                     vocab + "itemOf")]
            siblings = [s for p in parents for s in index.subjects(p, vocab + "measure", vocab + "banner",
                                                                  vocab + "itemOf")]
            years = index.objects(node, vocab + "fiscalYear")
            instants = [i for y in years for i in index.objects(y, TIME + "hasBeginning", TIME + "hasEnd")]
            if (any(_beyond(described.get(c, set()), home) for c in [*components, *siblings, *years, *instants])
                    or any(_beyond(touched.get(p, set()), home) for p in parents)):
                chosen.add(node)
        if index.has_type(node, vocab + "Project"):
            parents = index.objects(node, vocab + "measure", vocab + "banner")
            if any(_beyond(described.get(p, set()), home) for p in parents):
                chosen.add(node)
        if index.has_type(node, vocab + "SourceDocument"):
            printings = index.subjects(node, PROV + "entity") + index.objects(node, vocab + "printing")
            if any(_beyond(touched.get(p, set()), home) for p in printings):
                chosen.add(node)
    return chosen

