"""The published dataset description (void.ttl) against the EU DCAT-AP 3 shapes and VoID."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyshacl import validate

from kusei.graph.build import build
from kusei.settings import Settings

pytestmark = pytest.mark.system  # a full build through the SHACL gate

DCAT_AP = Path(__file__).resolve().parents[1] / "dcat_ap"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


@pytest.fixture(scope="module")
def void(tmp_path_factory: pytest.TempPathFactory) -> rdflib.Graph:
    result = build(Settings(data_dir=tmp_path_factory.mktemp("void"), licence="https://example.org/licence"),
                   report=lambda _: None)
    return rdflib.Graph().parse(result.path / "dumps" / "void.ttl")


def test_conforms_to_dcat_ap_3(void: rdflib.Graph) -> None:
    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl"):
        shapes.parse(DCAT_AP / name)
    conforms, _report, text = validate(void, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text


def test_describes_counts_endpoint_licence_and_every_dump(void: rdflib.Graph) -> None:
    dataset = rdflib.URIRef("https://w3id.org/kusei/id/dataset/kusei")
    assert int(void.value(dataset, VOID.triples)) > 1000
    assert int(void.value(dataset, VOID.entities)) > 100
    assert str(void.value(dataset, VOID.sparqlEndpoint)).endswith("/sparql")
    assert void.value(dataset, DCT.license) == rdflib.URIRef("https://example.org/licence")
    titles = {t.language for t in void.objects(dataset, DCT.title)}
    assert titles == {"ja", "en"}
    dumps = {str(u).rsplit("/", 1)[-1] for u in void.objects(dataset, VOID.dataDump)}
    assert dumps == {"kusei.ttl", "kusei.trig", "kusei.nq", "kusei.nt", "kusei.jsonld"}
    files = {str(void.value(d, DCAT.downloadURL)).rsplit("/", 1)[-1] for d in void.objects(dataset, DCAT.distribution)}
    assert {"shapes.ttl", "validation-report.ttl", "kusei.ttl.gz", "context.jsonld"} <= files
    assert len(list(void.objects(dataset, VOID.classPartition))) >= 10
    assert len(list(void.objects(dataset, VOID.vocabulary))) >= 6
