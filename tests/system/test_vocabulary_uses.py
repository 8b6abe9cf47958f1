"""/def/ says, per class, which properties (Kusei's and the standard ones) its instances carry,
with the cardinality and the values the SHACL shapes allow, so a consumer needs neither the
examples nor shapes.ttl to learn that titles are dcterms:title and order is schema:position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kusei.namespaces import prefixes
from kusei.release import open_store

# /def/ reads the release's shapes.ttl: the release must be built through the shapes.
pytestmark = pytest.mark.system

CURIES = {ns: f"{short}:" for short, ns in prefixes("https://w3id.org/kusei").items()}


def rows_of(html: str, anchor: str) -> dict[str, tuple[str, str]]:
    section = re.search(rf'<section class="term" id="{anchor}">.*?</section>', html, re.S).group(0)
    return {re.sub(r"<[^>]+>", "", prop): (card, values)
            for prop, card, values in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", section)}


def curie(iri: str) -> str:
    return next((short + iri[len(ns):] for ns, short in sorted(CURIES.items(), key=lambda kv: -len(kv[0]))
                 if iri.startswith(ns)), iri)


def test_every_property_the_data_uses_is_listed_per_class(data_dir: Path, client: FlaskClient) -> None:
    html = client.get("/def/", headers={"Accept": "text/html"}).get_data(as_text=True)
    store = open_store(data_dir / "current")
    used: dict[str, set[str]] = {}
    for row in store.query("SELECT DISTINCT ?c ?p WHERE { ?s a ?c ; ?p ?o "
                           "FILTER(STRSTARTS(STR(?c), 'https://w3id.org/kusei/def/')) }"):
        used.setdefault(row["c"].value.rsplit("/", 1)[-1], set()).add(curie(row["p"].value))
    assert len(used) >= 15
    for cls, properties in used.items():
        listed = rows_of(html, cls)
        assert properties - {"rdf:type", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"} <= set(listed), cls


def test_cardinality_and_values_come_from_the_shapes(client: FlaskClient) -> None:
    html = client.get("/def/", headers={"Accept": "text/html"}).get_data(as_text=True)
    measure = rows_of(html, "Measure")
    assert measure["dcterms:title"] == ("1", "@ja")
    assert measure["schema:position"] == ("1", "xsd:integer")
    assert measure["kusei:printing"] == ("1..*", "kusei:Printing")
    printing = rows_of(html, "Printing")
    assert printing["kusei:firstLine"] == ("1", "xsd:integer") and printing["prov:entity"][0] == "1"
    # A shape on the superclass applies: a mascot is a character, whose shape requires one name.
    assert rows_of(html, "Mascot")["schema:name"][0] == "1"
    assert rows_of(html, "Section")["org:purpose"][1] == "@ja"
