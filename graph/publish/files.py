"""The files of a release besides the indexes: the dumps with the shapes, the validation report,
the dataset description and their checksums; the documents' texts; the store."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pyoxigraph as ox

from kusei.formats import rdf_bytes
from kusei.graph.gate.validate import rebased_turtle
from kusei.graph.input.verify import SOURCE_SUFFIX
from kusei.graph.mapping import MappedDocument
from kusei.graph.publish.dataset import count, dataset_quads
from kusei.graph.publish.dumps import DumpFile, describe_file, sorted_quads, write_checksums, write_dumps
from kusei.namespaces import RDFS, SH, TYPE, Terms, jsonld_context, lit, prefixes, typed
from kusei.release import dumps_dir, sources_dir, store_dir
from kusei.settings import Settings


def write_dump_files(release: Path, data: list[ox.Quad], mapped: list[MappedDocument], terms: Terms,
                     settings: Settings, shapes_dir: Path,
                     graph_triples: dict[str, int]) -> tuple[list[DumpFile], list[ox.Quad]]:
    """Write the dumps of ``data`` and the files that describe them into ``release``; returns every
    file written (by name) and the dataset description's quads."""
    directory = dumps_dir(release)
    files = write_dumps(directory, data, prefixes(settings.base), jsonld_context(settings.base))
    shapes_text = "".join(rebased_turtle(p, settings.base) for p in sorted(shapes_dir.glob("*.ttl")))
    (directory / "shapes.ttl").write_text(shapes_text, encoding="utf-8")
    (directory / "validation-report.ttl").write_bytes(_validation_report(terms, mapped))
    files += [describe_file(directory / "shapes.ttl", "shapes"),
              describe_file(directory / "validation-report.ttl", "validation-report")]
    counts = count(data, terms, graph_triples)
    description = sorted_quads(dataset_quads(terms, settings, terms.graph("dataset"), files, counts))
    void = rdf_bytes([q.triple for q in description], ox.RdfFormat.TURTLE, prefixes(settings.base))
    (directory / "void.ttl").write_bytes(void)
    all_files = sorted([*files, describe_file(directory / "void.ttl", "void")], key=lambda f: f.name)
    write_checksums(directory, all_files)
    return all_files, description


def _validation_report(terms: Terms, mapped: list[MappedDocument]) -> bytes:
    # Written by us rather than dumped from pyshacl, so the file is identical build to build.
    quads = []
    graph = ox.DefaultGraph()
    for doc in mapped:
        node = terms.id(f"dataset/kusei/validation/{doc.doc_id}")
        quads += [
            ox.Quad(node, TYPE, ox.NamedNode(SH + "ValidationReport"), graph),
            ox.Quad(node, ox.NamedNode(SH + "conforms"), typed(True, "boolean"), graph),
            ox.Quad(node, ox.NamedNode(RDFS + "comment"), lit(
                f"{doc.record_file} (named graph {doc.graph.value}) with Kusei's editorial statements about "
                "it and the reference and interpretation graphs, validated against shapes.ttl", "en"), graph),
        ]
    node = terms.id("dataset/kusei/validation/merged")
    quads += [
        ox.Quad(node, TYPE, ox.NamedNode(SH + "ValidationReport"), graph),
        ox.Quad(node, ox.NamedNode(SH + "conforms"), typed(True, "boolean"), graph),
        ox.Quad(node, ox.NamedNode(RDFS + "comment"), lit(
            "The merged default graph (every document graph with the reference and interpretation "
            "graphs, as the SPARQL default graph and kusei.ttl give it), validated against shapes.ttl", "en"), graph),
    ]
    triples = [q.triple for q in sorted_quads(quads)]
    return rdf_bytes(triples, ox.RdfFormat.TURTLE, {"sh": SH, "rdfs": RDFS})


def copy_sources(sources: Path, release: Path) -> None:
    """The documents' texts only; each has a record (checked while reading the records)."""
    shutil.copytree(sources, sources_dir(release), ignore=lambda _, names: [
        name for name in names if not name.endswith(SOURCE_SUFFIX)])


def load_store(release: Path, named: list[ox.Quad]) -> None:
    store = ox.Store(str(store_dir(release)))
    store.extend(named)
    # The SPARQL default graph is the merge of all named graphs, stored once per triple:
    # pyoxigraph's union-graph flag repeats a solution for every graph that holds the
    # triple and overrides a query's FROM, so the endpoint queries this graph instead.
    # Streamed: the store keeps one copy of a triple that several graphs hold, so the
    # quads need no dedup (a sorted dedup copy of every triple peaked at ~590 MiB of heap
    # per million quads).
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in named)
    store.flush()
    del store
    gc.collect()  # closes the RocksDB handle before the directory is renamed
