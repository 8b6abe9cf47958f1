"""The service description as a page model (kusei.endpoint.web.pages.service_description):
triples from a release's manifest and the settings, without a server or a store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kusei.endpoint.web.pages.service_description import service_description
from kusei.namespaces import RDFS, SD, VOID, XSD
from kusei.release import Manifest, Release
from kusei.settings import Settings

BASE = "http://example.test/kusei"
SERVED_AT = "http://served.test"


def release() -> Release:
    manifest = Manifest(id="0123456789abcdef", base=BASE, published_at=BASE, modified="2026-01-02",
                        graphs={f"{BASE}/graph/reference": 7, f"{BASE}/graph/document/aa": 11}, files=[],
                        documents={})
    return Release(Path("unused"), manifest)  # the description reads the manifest only


def stated(triples: list[ox.Triple], subject: str) -> dict[str, list[ox.Literal | ox.NamedNode | ox.BlankNode]]:
    found: dict[str, list] = {}
    for t in triples:
        if t.subject.value == subject:
            found.setdefault(t.predicate.value, []).append(t.object)
    return found


def test_every_limit_of_the_settings_is_stated_with_its_datatype() -> None:
    settings = Settings(rate_limit="9/minute", query_timeout=12.5, max_server_memory=0)
    said = stated(service_description(release(), settings, SERVED_AT), f"{SERVED_AT}/sparql")
    limits = settings.limits()
    assert "maxServerMemory" not in limits  # off: not stated
    for name, value in limits.items():
        (literal,) = said[f"{BASE}/def/{name}"]
        assert isinstance(literal, ox.Literal) and literal.value == str(value)
        kind = {int: "integer", float: "decimal", str: "string"}[type(value)]
        assert literal.datatype == ox.NamedNode(XSD + kind)
    assert not [p for p in said if p.endswith("/def/maxServerMemory")]
    (words, *_) = [c for c in said[RDFS + "comment"] if "Read-only" in c.value]
    assert "12.5 s" in words.value and "9/minute" in words.value


def test_the_service_is_the_url_that_answers_and_names_each_graph() -> None:
    triples = service_description(release(), Settings(), SERVED_AT, problem="the newest release is broken")
    service = stated(triples, f"{SERVED_AT}/sparql")
    assert service[SD + "endpoint"] == [ox.NamedNode(f"{SERVED_AT}/sparql")]
    assert ox.Literal("the newest release is broken", language="en") in service[RDFS + "comment"]
    dataset = stated(triples, f"{BASE}/id/dataset/kusei")
    assert set(dataset[SD + "namedGraph"]) == {ox.NamedNode(f"{BASE}/graph/reference"),
                                               ox.NamedNode(f"{BASE}/graph/document/aa")}
    sizes = {t.object.value for t in triples if t.predicate.value == VOID + "triples"}
    assert sizes == {"7", "11"}
    assert not [t for t in service_description(release(), Settings(), SERVED_AT)
                if t.object == ox.Literal("the newest release is broken", language="en")]
