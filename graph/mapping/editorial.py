"""The interpretation and editorial graphs: Kusei's own statements, gathered from every document.

Each mapped document keeps its interpretations and editorial statements apart from what it
prints; here they become the two graphs that hold them, with what each graph is and who says it.
"""

from __future__ import annotations

import pyoxigraph as ox

from kusei.graph.mapping import MappedDocument
from kusei.graph.mapping.across_years import continuation_quads
from kusei.namespaces import PROV, RDFS, Terms, lit


def interpretation_quads(mapped: list[MappedDocument], terms: Terms, graph: ox.NamedNode) -> list[ox.Quad]:
    """ValueError if a stated continuation names a component no record has."""
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for d in mapped for t in d.interpretation]
    quads += continuation_quads([q for d in mapped for q in d.quads], terms, graph)
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "Kusei's editorial interpretations: the policy areas of each measure, the SDGs a project "
        "serves, and which measure, project or goal of a later plan continues one of an earlier plan of the "
        "same ward (kusei:continues, with the evidence on a kusei:Continuation). The documents do not state "
        "these; they are offered for comparison and can be disputed.", "en"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(PROV + "wasAttributedTo"), terms.id("agent/kusei"), graph))
    return quads


def editorial_quads(mapped: list[MappedDocument], terms: Terms, graph: ox.NamedNode) -> list[ox.Quad]:
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for d in mapped for t in d.editorial]
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "Kusei's editorial statements about the documents' entities, which the documents do not print: "
        "notes on each document's origin and licence, its kind, fiscal years Kusei inferred (with the "
        "reasons), publishers where no issuer is printed, corrections of printed slips, and types the "
        "text does not state. The document graphs hold only what their documents print; leave this "
        "graph out (FROM / GRAPH) to read the print alone.", "en"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "資料に印刷されていない、Kusei による編集上の記述(資料の出所・ライセンスの注記、資料の種別、推定した年度と"
        "その根拠、発行者が印刷されていない資料の発行者、誤記の訂正、本文が述べていない種別)。文書グラフには資料に"
        "印刷されたことだけがある。", "ja"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(PROV + "wasAttributedTo"), terms.id("agent/kusei"), graph))
    return quads
