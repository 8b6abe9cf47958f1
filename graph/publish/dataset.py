"""The dataset description (VoID + DCAT): what the release holds and where to get it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from kusei import formats
from kusei.graph.publish.dumps import DumpFile
from kusei.namespaces import (
    DCAT,
    DCTERMS,
    FOAF,
    RDFS,
    SD,
    SKOS,
    SPDX,
    TYPE,
    VOID,
    XSD,
    Terms,
    iri,
    lit,
    typed,
)
from kusei.settings import Settings

# Titles of the release's files that are not RDF serialisations of the data.
FILE_TITLES = {"context": "JSON-LD context", "shapes": "SHACL shapes (Turtle)",
               "validation-report": "SHACL validation report (Turtle)"}
IANA = "https://www.iana.org/assignments/media-types/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language"
# DCAT-AP 3 names checksum algorithms under the https form of the SPDX namespace.
SHA256 = ox.NamedNode("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")


# What each named graph holds, said in VoID beside its size (graph/README.md says the same).
GRAPH_COMMENTS = {
    "document/": "What one source document prints, with the lines of each entity (kusei:printing); "
                 "nothing Kusei infers or notes.",
    "editorial": "Kusei's editorial statements, which no document prints: origin and licence notes, document "
                 "kinds, inferred fiscal years with their reasons, publishers where no issuer is printed, "
                 "corrections of printed slips, types the text does not state. Exclude it to read the print alone.",
    "interpretation": "Kusei's interpretations for comparison: the policy areas of each measure, the SDGs of "
                      "projects, and links between the same thing in plans of different years.",
    "reference": "Reference tables not taken from the documents: wards, city, offices, bureaus, section types, "
                 "policy areas, the Medium-Term Plan, fiscal years.",
    "ontology": "The Kusei vocabulary (/def/).",
    "dataset": "This description of the dataset (published as void.ttl, not inside the data dumps).",
}


def graph_comment(terms: Terms, graph_iri: str) -> str | None:
    local = graph_iri.removeprefix(terms.graphs)
    return next((text for key, text in GRAPH_COMMENTS.items()
                 if local == key or (key.endswith("/") and local.startswith(key))), None)


@dataclass(frozen=True)
class Counts:
    graph_triples: dict[str, int]  # graph IRI -> triples
    triples: int  # distinct triples over all data graphs
    entities: int
    classes: dict[str, int]  # class IRI -> instances
    vocabularies: list[str]
    examples: list[str]


def count(data: list[ox.Quad], terms: Terms, graph_triples: dict[str, int]) -> Counts:
    """What the dataset description states of ``data``: sizes, classes, vocabularies, examples."""
    classes: dict[str, set] = defaultdict(set)
    subjects: set[str] = set()
    namespaces: set[str] = set()
    id_prefix = terms.ids
    for quad in data:
        if quad.predicate == TYPE and isinstance(quad.object, ox.NamedNode):
            classes[quad.object.value].add(quad.subject)
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(id_prefix):
            subjects.add(quad.subject.value)
        for term in (quad.predicate, quad.object if quad.predicate == TYPE else None):
            if isinstance(term, ox.NamedNode):
                value = term.value
                cut = max(value.rfind("#"), value.rfind("/"))
                namespaces.add(value[: cut + 1])
    distinct = {(str(q.subject), str(q.predicate), str(q.object)) for q in data}
    examples = sorted(s for s in subjects if "/id/plan/" in s and s.count("/") == id_prefix.count("/") + 2)
    return Counts(graph_triples=graph_triples, triples=len(distinct), entities=len(subjects),
                  classes={c: len(s) for c, s in classes.items()},
                  vocabularies=sorted(n for n in namespaces if not n.startswith(terms.ids)),
                  examples=examples[:5])


def _format_title(name: str) -> str:
    try:
        return formats.by_name(name).title
    except KeyError:
        return name


Add = Callable[[ox.NamedNode | ox.BlankNode, str, ox.NamedNode | ox.BlankNode | ox.Literal], None]


def dataset_quads(terms: Terms, settings: Settings, graph: ox.NamedNode, files: list[DumpFile],
                  counts: Counts) -> list[ox.Quad]:
    out: list[ox.Quad] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        out.append(ox.Quad(s, ox.NamedNode(p), o, graph))

    dataset = terms.dataset
    service = ox.NamedNode(f"{settings.published_at}/sparql")
    _about(add, terms, settings, dataset)
    _contents(add, terms, dataset, service, counts)
    access = iri(dataset, "service")
    add(access, TYPE.value, ox.NamedNode(DCAT + "DataService"))
    add(access, DCTERMS + "title", lit("Kusei SPARQL endpoint", "en"))
    add(access, DCAT + "endpointURL", service)
    add(access, DCAT + "servesDataset", dataset)
    protocol = ox.NamedNode("https://www.w3.org/TR/sparql11-protocol/")
    add(access, DCTERMS + "conformsTo", protocol)
    add(protocol, TYPE.value, ox.NamedNode(DCTERMS + "Standard"))
    add(SHA256, TYPE.value, ox.NamedNode(SPDX + "ChecksumAlgorithm"))
    _distributions(add, settings, dataset, access, files)
    return out


def _about(add: Add, terms: Terms, settings: Settings, dataset: ox.NamedNode) -> None:
    """Title, description, publisher, licence, dates, language and place."""
    publisher = terms.id("agent/kusei")
    for cls in (VOID + "Dataset", DCAT + "Dataset"):
        add(dataset, TYPE.value, ox.NamedNode(cls))
    for lang, title in (("ja", "Kusei 横浜市区運営方針データ"), ("en", "Kusei: Yokohama ward management policies")):
        add(dataset, DCTERMS + "title", lit(title, lang))
        add(dataset, RDFS + "label", lit(title, lang))
    add(dataset, DCTERMS + "description", lit(
        "横浜市の区役所が毎年公表する区運営方針 (基本目標、施策、主な事業、組織運営、課の使命、局事業など) を、"
        "原文の行まで辿れる Linked Open Data として公開するデータセット。", "ja"))
    add(dataset, DCTERMS + "description", lit(
        "The annual management policies of Yokohama's ward offices (basic goals, measures, main projects, "
        "office operation, section missions, city-bureau projects) as Linked Open Data, every fact traceable "
        "to the lines of the document it came from.", "en"))
    add(dataset, DCTERMS + "publisher", publisher)
    add(publisher, TYPE.value, ox.NamedNode(FOAF + "Agent"))
    add(publisher, FOAF + "name", lit("Kusei"))
    add(publisher, RDFS + "label", lit("Kusei"))
    add(dataset, DCTERMS + "license", ox.NamedNode(settings.licence))
    add(ox.NamedNode(settings.licence), TYPE.value, ox.NamedNode(DCTERMS + "LicenseDocument"))
    add(dataset, RDFS + "comment", lit(
        "The source documents print no licence. The dataset licence is a setting (KUSEI_LICENCE); its default, "
        "CC BY 4.0, follows the city's statement for the open data it publishes and awaits confirmation.", "en"))
    add(dataset, DCTERMS + "issued", typed("2026-11-23", "date"))
    add(dataset, DCTERMS + "modified", typed(settings.modified, "date"))
    # Typed and drawn from the EU language table so DCAT-AP validators accept them.
    japanese = ox.NamedNode(EU_LANGUAGE + "/JPN")
    add(dataset, DCTERMS + "language", japanese)
    add(japanese, TYPE.value, ox.NamedNode(DCTERMS + "LinguisticSystem"))
    add(japanese, SKOS + "inScheme", ox.NamedNode(EU_LANGUAGE))
    add(dataset, DCTERMS + "spatial", terms.area("141003"))
    add(terms.area("141003"), TYPE.value, ox.NamedNode(DCTERMS + "Location"))


def _contents(add: Add, terms: Terms, dataset: ox.NamedNode, service: ox.NamedNode, counts: Counts) -> None:
    """What the data hold: sizes, vocabularies, examples, classes and named graphs."""
    add(dataset, VOID + "sparqlEndpoint", service)
    add(dataset, VOID + "uriSpace", lit(terms.ids))
    add(dataset, VOID + "triples", typed(counts.triples, "integer"))
    add(dataset, RDFS + "comment", lit(
        "void:triples counts each distinct triple of the data dumps once (kusei.ttl, kusei.nt). The named "
        "graphs' void:triples add up to a little more, as a triple several graphs state is counted in each "
        "(kusei.nq). The SPARQL default graph, counted on the home page, also holds this description.", "en"))
    add(dataset, VOID + "entities", typed(counts.entities, "integer"))
    for vocabulary in counts.vocabularies:
        add(dataset, VOID + "vocabulary", ox.NamedNode(vocabulary))
    for example in counts.examples:
        add(dataset, VOID + "exampleResource", ox.NamedNode(example))
    for class_iri, instances in sorted(counts.classes.items()):
        partition = iri(dataset, "class", class_iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
        add(dataset, VOID + "classPartition", partition)
        add(partition, TYPE.value, ox.NamedNode(VOID + "Dataset"))
        add(partition, VOID + "class", ox.NamedNode(class_iri))
        add(partition, VOID + "entities", typed(instances, "integer"))
    for graph_iri, triples in sorted(counts.graph_triples.items()):
        subset = ox.NamedNode(graph_iri)
        add(dataset, VOID + "subset", subset)
        add(subset, TYPE.value, ox.NamedNode(VOID + "Dataset"))
        add(subset, TYPE.value, ox.NamedNode(SD + "NamedGraph"))
        add(subset, SD + "name", subset)
        add(subset, VOID + "triples", typed(triples, "integer"))
        add(subset, RDFS + "label", lit(f"named graph {graph_iri.removeprefix(terms.base)}", "en"))
        if (comment := graph_comment(terms, graph_iri)) is not None:
            add(subset, RDFS + "comment", lit(comment, "en"))


def _distributions(add: Add, settings: Settings, dataset: ox.NamedNode, access: ox.NamedNode,
                   files: list[DumpFile]) -> None:
    """Every published file, where to download it, its size and checksum."""
    published = settings.published_at
    for dump in sorted(files, key=lambda f: f.name):
        node = iri(dataset, "distribution", dump.name.replace(".", "-"))
        url = ox.NamedNode(f"{published}/dumps/{dump.name}")
        add(dataset, DCAT + "distribution", node)
        if dump.format in ("ttl", "nt", "nq", "trig", "jsonld"):
            add(dataset, VOID + "dataDump", url)
        add(node, TYPE.value, ox.NamedNode(DCAT + "Distribution"))
        base_format = dump.format.removesuffix(".gz")
        title = FILE_TITLES.get(base_format) or _format_title(base_format)
        title += " (gzip)" if dump.format.endswith(".gz") else ""
        add(node, DCTERMS + "title", lit(title, "en"))
        add(node, DCAT + "accessURL", url)
        add(node, DCAT + "downloadURL", url)
        add(node, DCAT + "accessService", access)
        media_type = ox.NamedNode(IANA + dump.media_type)
        add(node, DCAT + "mediaType", media_type)
        add(media_type, TYPE.value, ox.NamedNode(DCTERMS + "MediaType"))
        add(node, DCAT + "byteSize", typed(dump.bytes, "nonNegativeInteger"))
        add(node, DCTERMS + "license", ox.NamedNode(settings.licence))
        checksum = iri(node, "checksum")
        add(node, SPDX + "checksum", checksum)
        add(checksum, TYPE.value, ox.NamedNode(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", SHA256)
        add(checksum, SPDX + "checksumValue", ox.Literal(dump.sha256, datatype=ox.NamedNode(XSD + "hexBinary")))
