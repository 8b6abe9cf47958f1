"""The bounded description, shared by the resource pages and SPARQL DESCRIBE.

A description of a resource is every triple with the resource as subject, the blank nodes those
reach (two levels: the corrections and similar small structures of this data), the resource's own
fragments (``<iri>#…``, its printings), up to ``INCOMING_LIMIT`` incoming links from IRIs when the
resource is minted under the base, and the labels of every resource linked either way, so a client
can show names without a second round trip.

It is one CONSTRUCT query (:func:`description_query`), run in a query process like any other query
(``executor.answer``), which also puts its triples in a deterministic order (:func:`order_lines`),
so the same release always gives the same bytes: the resources' own triples, then the blank nodes
they reach, then incoming links, then the labels of linked resources, each part sorted by
:func:`triple_sort_key`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyoxigraph as ox

from kusei.namespaces import RDFS, SKOS

# Enough for every incoming link of an entity of this dataset (a plan has a few hundred parts),
# while a class such as kusei:Measure cannot pull the whole graph into one description.
INCOMING_LIMIT = 500
LABEL_PROPERTIES = (f"<{RDFS}label>", f"<{SKOS}prefLabel>")
# The first resources of a description get template triples of their own, with the IRI written in;
# past these the template (instantiated for every solution) would grow with the resources.
CONSTANT_TEMPLATES = 8


def description_query(iris: list[str], *, base: str, incoming_limit: int = INCOMING_LIMIT) -> str:
    """One CONSTRUCT for the bounded description of ``iris``.

    Each resource's IRI is written into its own patterns rather than bound by VALUES: the engine
    evaluates the branches of a UNION on their own, and an unbound ``?r ?p ?o`` would scan the store.
    What a branch costs is mostly the terms it hands back, each looked up in the store per solution
    (bench/engine.py): so constants go into the template rather than into bound variables (each
    label property has a variable of its own, the first resources their own template triples),
    and each set of linked resources is found once for all label properties.
    """
    # One lookup per linked resource and label property (plain patterns: the engine then follows
    # the links instead of joining with every label of the store).
    labels = " UNION ".join(f"{{ ?l {label} ?lo{index} }}" for index, label in enumerate(LABEL_PROPERTIES))
    branches = []
    templates = ["?r ?p ?o", "?b ?bp ?bo", "?b2 ?bp2 ?bo2", "?in ?ip ?r"]
    templates += [f"?l {label} ?lo{index}" for index, label in enumerate(LABEL_PROPERTIES)]
    for number, iri in enumerate(iris):
        r = str(ox.NamedNode(iri))  # a validated IRI, safe to splice
        if number < CONSTANT_TEMPLATES:
            # The IRI written in the template: bound to ?r it would be looked up on every row.
            own, linker = (f"?rp{number}", f"?ro{number}"), (f"?in{number}", f"?ip{number}")
            templates += [f"{r} {own[0]} {own[1]}", f"{linker[0]} {linker[1]} {r}"]
            bind = ""
        else:
            own, linker = ("?p", "?o"), ("?in", "?ip")
            bind = f" BIND({r} AS ?r)"
        branches += [
            f"{{ {r} {own[0]} {own[1]}{bind} }}",
            f"{{ {r} ?p1 ?b FILTER(isBlank(?b)) ?b ?bp ?bo }}",
            f"{{ {r} ?p1 ?x FILTER(isBlank(?x)) ?x ?p2 ?b2 FILTER(isBlank(?b2)) ?b2 ?bp2 ?bo2 }}",
            # The resource's own fragments, as its printings <iri>#in-<docid> (document and lines):
            # part of the resource's description, as a hash IRI is part of its document.
            f"{{ {r} ?p1 ?b FILTER(isIRI(?b) && STRSTARTS(STR(?b), {json.dumps(iri + '#')})) ?b ?bp ?bo }}",
            # Labels of what the resource links to, directly or through a blank node it reaches.
            f"{{ {r} ?lx ?l FILTER(isIRI(?l) && ?l != {r}) {labels} }}",
            f"{{ {r} ?p1 ?x FILTER(isBlank(?x)) ?x ?lx ?l FILTER(isIRI(?l) && ?l != {r}) {labels} }}",
        ]
        if iri.startswith(base.rstrip("/") + "/") and incoming_limit > 0:
            # Links from blank nodes mean nothing without the blank node's own context.
            s_, p_ = linker
            branches += [
                f"{{ {{ SELECT {s_} {p_} WHERE {{ {s_} {p_} {r} FILTER(isIRI({s_}) && {s_} != {r}) }} "
                f"LIMIT {incoming_limit} }}{bind} }}",
                f"{{ {{ SELECT DISTINCT ?l WHERE {{ ?l ?lx {r} FILTER(isIRI(?l) && ?l != {r}) }} "
                f"LIMIT {incoming_limit} }} {labels} }}",
            ]
    union = "\n  UNION ".join(branches)
    return f"""CONSTRUCT {{ {" . ".join(templates)} }}
WHERE {{
  {union}
}}"""


# -- order ----------------------------------------------------------------------------------------


def term_sort_key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> tuple[int, str]:
    """A total order over terms: IRIs, then blank nodes, then literals; N-Triples text within."""
    rank = 0 if isinstance(term, ox.NamedNode) else 1 if isinstance(term, ox.BlankNode) else 2
    return rank, str(term)


def triple_sort_key(triple: ox.Triple) -> tuple[tuple[int, str], ...]:
    return term_sort_key(triple.subject), term_sort_key(triple.predicate), term_sort_key(triple.object)


_TRIPLE_TERM_OPEN, _TRIPLE_TERM_CLOSE = b"<<( ", b" )>>"


def _line_key(line: bytes) -> tuple[int, bytes, bytes, int, bytes]:
    """:func:`triple_sort_key` of an N-Triples line, read off its text (UTF-8 bytes sort as code
    points do). Subjects and predicates hold no spaces; the object is the rest up to `` .``; a
    triple term's ``str()`` is its N-Triples text without the brackets."""
    subject, predicate, obj = line[:-2].split(b" ", 2)
    first = obj[:1]
    if first == b'"':
        rank = 2
    elif first == b"_":
        rank = 1
    elif obj.startswith(_TRIPLE_TERM_OPEN):
        rank, obj = 2, obj[len(_TRIPLE_TERM_OPEN) : -len(_TRIPLE_TERM_CLOSE)]
    else:
        rank = 0
    return (subject[:1] == b"_"), subject, predicate, rank, obj


def order_lines(lines: Iterable[bytes], resources: Iterable[str]) -> list[bytes]:
    """The N-Triples lines (each without its line feed) of a description of ``resources``,
    without repeats, in the order of the module docstring."""
    described = {f"<{iri}>".encode() for iri in resources}
    own: set[bytes] = set()
    blank: set[bytes] = set()
    incoming: set[bytes] = set()
    labels: set[bytes] = set()
    for line in lines:
        subject, _, rest = line.partition(b" ")
        if subject in described:
            own.add(line)
        elif subject[:1] == b"_":
            blank.add(line)
        elif rest.rpartition(b" ")[0].partition(b" ")[2] in described:
            incoming.add(line)
        else:
            labels.add(line)
    ordered: list[bytes] = []
    for part in (own, blank, incoming, labels):
        ordered += sorted(part, key=_line_key)
    return ordered
