"""Writing the dumps: the same quads in every format, byte-identical for the same input."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kusei.formats import media_type_of_file, rdf_bytes
from kusei.namespaces import GraphName, Term
from kusei.release import ManifestFile as DumpFile


def stable_blank_nodes(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Relabel blank nodes by what they say and where they hang, instead of the parser's random ids.

    Anonymous nodes in Turtle files (``owl:unionOf`` lists, restrictions) get fresh ids on every
    parse; ids derived from content and referrer keep dumps byte-identical across builds.
    """
    outgoing: dict[ox.BlankNode, list[tuple[ox.NamedNode, Term]]] = {}
    incoming: dict[ox.BlankNode, tuple[Term, ox.NamedNode]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            outgoing.setdefault(t.subject, []).append((t.predicate, t.object))
        if isinstance(t.object, ox.BlankNode):
            incoming.setdefault(t.object, (t.subject, t.predicate))
    content: dict[ox.BlankNode, str] = {}

    def content_of(node: ox.BlankNode, seen: frozenset = frozenset()) -> str:
        if node not in content:
            if node in seen:
                return "cycle"
            parts = sorted(f"{p} {content_of(o, seen | {node}) if isinstance(o, ox.BlankNode) else o}"
                           for p, o in outgoing.get(node, []))
            content[node] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return content[node]

    def place_of(node: ox.BlankNode, depth: int = 0) -> str:
        if node not in incoming or depth > 50:
            return ""
        subject, predicate = incoming[node]
        where = place_of(subject, depth + 1) if isinstance(subject, ox.BlankNode) else str(subject)
        return f"{where} {predicate}"

    labels: dict[ox.BlankNode, ox.BlankNode] = {}

    def label(node: ox.BlankNode) -> ox.BlankNode:
        if node not in labels:
            digest = hashlib.sha256(f"{content_of(node)}|{place_of(node)}".encode()).hexdigest()[:24]
            labels[node] = ox.BlankNode(f"b{digest}")
        return labels[node]

    # Written out for subject and object: their types differ (a subject is never a literal).
    def relabel_subject(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> ox.NamedNode | ox.BlankNode | ox.Triple:
        return label(term) if isinstance(term, ox.BlankNode) else term

    def relabel(term: Term) -> Term:
        return label(term) if isinstance(term, ox.BlankNode) else term

    return [ox.Triple(relabel_subject(t.subject), t.predicate, relabel(t.object)) for t in triples]


def term_key(term: Term | GraphName) -> str:
    return str(term)


def sorted_quads(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Distinct quads in a fixed order, so serialisations do not depend on insertion order."""
    unique = {(term_key(q.graph_name), term_key(q.subject), term_key(q.predicate), term_key(q.object)): q
              for q in quads}
    return [unique[key] for key in sorted(unique)]


def sorted_triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    unique = {(term_key(q.subject), term_key(q.predicate), term_key(q.object)): q.triple for q in quads}
    return [unique[key] for key in sorted(unique)]


def context_document(context: dict[str, object]) -> dict:
    return {"@context": dict(sorted(context.items()))}


def _canonical(value: object) -> object:
    """Sort JSON-LD node arrays and keys so rdflib's set-ordered output becomes reproducible."""
    if isinstance(value, dict):
        return {k: (_canonical(v) if k != "@list" else [_canonical(x) for x in v]) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
    return value


def to_rdflib_term(term: Term) -> rdflib.term.Node:
    """Term by term, so blank-node ids survive (parsing N-Quads would rename them at random)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Triple):
        raise ValueError("rdflib cannot carry triple terms; the dumps hold none")
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def jsonld_bytes(quads: list[ox.Quad], context: dict[str, object]) -> bytes:
    dataset = rdflib.Dataset()
    for quad in quads:
        if isinstance(quad.graph_name, ox.DefaultGraph):
            raise ValueError("the dumps hold named graphs only; a quad in the default graph has no graph IRI")
        graph = dataset.graph(rdflib.URIRef(quad.graph_name.value))
        graph.add((to_rdflib_term(quad.subject), to_rdflib_term(quad.predicate), to_rdflib_term(quad.object)))
    text = dataset.serialize(format="json-ld", context=context_document(context)["@context"], auto_compact=True)
    document = _canonical(json.loads(text))
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _gzip(data: bytes) -> bytes:
    # mtime=0 and no file name: the compressed bytes depend on the content only.
    return gzip.compress(data, compresslevel=9, mtime=0)


def _describe(path: Path, fmt: str) -> DumpFile:
    data = path.read_bytes()
    return DumpFile(name=path.name, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                    media_type=media_type_of_file(path.name), format=fmt)


def write_dumps(directory: Path, quads: list[ox.Quad], prefixes: dict[str, str], context: dict[str, object],
                stem: str = "kusei") -> list[DumpFile]:
    """Write Turtle, TriG, N-Quads, N-Triples and JSON-LD (each also gzipped) of ``quads``."""
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted_quads(quads)
    triples = sorted_triples(ordered)
    outputs = {
        "nq": (f"{stem}.nq", rdf_bytes(ordered, ox.RdfFormat.N_QUADS)),
        "trig": (f"{stem}.trig", rdf_bytes(ordered, ox.RdfFormat.TRIG, prefixes)),
        "ttl": (f"{stem}.ttl", rdf_bytes(triples, ox.RdfFormat.TURTLE, prefixes)),
        "nt": (f"{stem}.nt", rdf_bytes(triples, ox.RdfFormat.N_TRIPLES)),
        "jsonld": (f"{stem}.jsonld", jsonld_bytes(ordered, context)),
    }
    files: list[DumpFile] = []
    for fmt, (name, data) in outputs.items():
        (directory / name).write_bytes(data)
        (directory / f"{name}.gz").write_bytes(_gzip(data))
        files.append(_describe(directory / name, fmt))
        files.append(_describe(directory / f"{name}.gz", f"{fmt}.gz"))
    text = json.dumps(context_document(context), ensure_ascii=False, indent=1) + "\n"
    (directory / "context.jsonld").write_text(text, encoding="utf-8")
    files.append(_describe(directory / "context.jsonld", "context"))
    return files


def describe_file(path: Path, fmt: str) -> DumpFile:
    return _describe(path, fmt)


def write_checksums(directory: Path, files: list[DumpFile]) -> None:
    lines = [f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name)]
    (directory / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
