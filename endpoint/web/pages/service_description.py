"""What ``/sparql`` says of itself (an ``sd:Service``) and what ``/.well-known/void`` gives (the
dataset description), as triples; the view turns them into the negotiated RDF format."""

from __future__ import annotations

import pyoxigraph as ox

from kusei import formats
from kusei.endpoint.query.describe import triple_sort_key
from kusei.endpoint.web.pages import data
from kusei.namespaces import DCTERMS, RDFS, SD, SIMPLE_ENTAILMENT, TYPE, VOID, XSD, terms
from kusei.release import Release
from kusei.settings import Settings

# The datatype a published limit is stated with, by the type of its setting.
_DATATYPES = {bool: "boolean", int: "integer", float: "decimal", str: "string"}


def dataset_description(release: Release, settings: Settings) -> list[ox.Triple]:
    """The VoID/DCAT description of the release: the ``/graph/dataset`` named graph."""
    triples = data.triples(release, "graph-triples", settings=settings, graph=terms(release.base).graph("dataset"))
    return sorted(triples, key=triple_sort_key)  # the same bytes from every server process


def service_description(release: Release, settings: Settings, served_at: str,
                        problem: str | None = None) -> list[ox.Triple]:
    """An ``sd:Service`` for the endpoint at ``served_at``: language, result formats, features,
    limits and dataset; ``problem`` is why the newest release is not the one served, if it is not.

    The service is named by the URL that answers, and is its own ``sd:endpoint``: a client that
    fetched that URL (Comunica, for one) recognises the description as the endpoint's own, where a
    dataset IRI under an unregistered base would name nothing it can reach.
    """
    dataset = terms(release.base).dataset
    endpoint = ox.NamedNode(f"{served_at}/sparql")
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    add(endpoint, TYPE.value, ox.NamedNode(SD + "Service"))
    add(endpoint, DCTERMS + "title", ox.Literal("Kusei SPARQL endpoint", language="en"))
    add(endpoint, SD + "endpoint", endpoint)
    add(endpoint, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
    for fmt in (*formats.RESULT_FORMATS, *formats.GRAPH_FORMATS):
        add(endpoint, SD + "resultFormat", ox.NamedNode(fmt.iri))
    # The default graph is the union of the named graphs. No sd:BasicFederatedQuery: SERVICE is
    # refused, and stating so by omission is what the vocabulary allows.
    add(endpoint, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    add(endpoint, SD + "defaultEntailmentRegime", ox.NamedNode(SIMPLE_ENTAILMENT))
    add(endpoint, RDFS + "seeAlso", ox.NamedNode(f"{served_at}/.well-known/void"))
    kusei = terms(release.base).vocab
    for name, value in settings.limits().items():
        add(endpoint, kusei + name, ox.Literal(str(value), datatype=ox.NamedNode(XSD + _DATATYPES[type(value)])))
    add(endpoint, RDFS + "comment", ox.Literal(limits_text(settings), language="en"))
    if problem:
        add(endpoint, RDFS + "comment", ox.Literal(problem, language="en"))
    add(endpoint, SD + "defaultDataset", dataset)
    out += _default_dataset(release, dataset, endpoint)
    return out


def _default_dataset(release: Release, dataset: ox.NamedNode, endpoint: ox.NamedNode) -> list[ox.Triple]:
    """The endpoint's dataset: the union default graph and every named graph with its size."""
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    add(dataset, TYPE.value, ox.NamedNode(SD + "Dataset"))
    add(dataset, TYPE.value, ox.NamedNode(VOID + "Dataset"))
    add(dataset, VOID + "sparqlEndpoint", endpoint)
    default_graph = ox.BlankNode("defaultGraph")
    add(dataset, SD + "defaultGraph", default_graph)
    add(default_graph, TYPE.value, ox.NamedNode(SD + "Graph"))
    add(default_graph, RDFS + "comment", ox.Literal("The union of all named graphs.", language="en"))
    for index, (graph_iri, triples) in enumerate(sorted(release.manifest.graphs.items())):
        named = ox.NamedNode(graph_iri)
        graph = ox.BlankNode(f"graph{index}")
        add(dataset, SD + "namedGraph", named)
        add(named, TYPE.value, ox.NamedNode(SD + "NamedGraph"))
        add(named, SD + "name", named)
        add(named, SD + "graph", graph)
        add(graph, TYPE.value, ox.NamedNode(SD + "Graph"))
        add(graph, VOID + "triples", ox.Literal(str(triples), datatype=ox.NamedNode(XSD + "integer")))
    return out


def limits_text(settings: Settings) -> str:
    """The published limits in words: what a client may send and get back before a 4xx/503 says no."""
    s = settings
    return (
        f"Read-only. Queries stop after {s.query_timeout:g} s (503; timeout= may only lower it); "
        f"at most {s.max_query_length} characters (413) and a {s.max_body_bytes}-byte body (413); "
        f"results over {s.max_result_rows} rows or {s.max_result_bytes} bytes are a 422, never "
        f"truncated; {s.max_concurrent_queries} queries run at once, more wait briefly, then 503. "
        + (f"A query's process may use {s.query_memory_bound} bytes (422 past it); "
           if s.query_memory_bound else "")
        + (f"the server's processes together {s.max_server_memory} bytes (the largest query is stopped: 503). "
           if s.max_server_memory else "")
        + f"Request heads must arrive within {s.header_timeout:g} s, "
        f"bodies within {s.body_timeout:g} s (408). "
        "SERVICE, LOAD and updates are refused (400/403): this endpoint makes no outbound requests."
        + (f" Each client address may send {s.rate_limit} queries (counted by each server process); "
           "more get 429 with Retry-After." if s.rate_limit else "")
        + (f" Each client address may run {s.client_max_queries} queries at once"
           if s.client_max_queries else "")
        + ((" and" if s.client_max_queries else " Each client address may") +
           f" use {s.client_query_seconds:g} s of query time in any minute"
           if s.client_query_seconds else "")
        + ("; past that it gets 429 with Retry-After, and other clients are not affected."
           if s.client_max_queries or s.client_query_seconds else "")
    )
