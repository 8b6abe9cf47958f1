"""The ontology graph: Kusei's vocabulary as the release publishes it, under the deployment's base."""

from __future__ import annotations

import pyoxigraph as ox

from kusei.graph.gate.validate import ONTOLOGY_DIR, rebased_turtle
from kusei.graph.publish.dumps import stable_blank_nodes


def ontology_quads(base: str, graph: ox.NamedNode) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        text = rebased_turtle(path, base)
        triples = stable_blank_nodes(list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE)))
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return quads
