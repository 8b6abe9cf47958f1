"""A vocabulary that answers simple queries simply: entailed kusei: super-properties and
super-classes written out, one property from a project to its measure or banner, numbers as
integers beside the printed ones, and an undeclared prefix named in the error."""

from __future__ import annotations

import csv
import io
import unicodedata

import pyoxigraph as ox
from flask import Flask
from flask.testing import FlaskClient

from kusei.endpoint.query.errors import explain_syntax
from kusei.graph.mapping.entailment import hierarchy
from kusei.release import open_store


def store(app: Flask) -> ox.Store:
    return open_store(app.extensions["kusei_release"].latest().path)


def rows(app: Flask, query: str) -> list[dict]:
    solutions = store(app).query(query)
    return [{v.value: s[v] for v in solutions.variables} for s in solutions]


K = "https://w3id.org/kusei/def/"


def test_every_kusei_sub_property_statement_is_also_stated_with_its_super_property(app: Flask) -> None:
    properties, classes = hierarchy()
    assert "mtpReference" in properties["mtpPolicy"] and "measureOrBanner" in properties["banner"]
    checked = 0
    for sub, supers in properties.items():
        for sup in supers:
            missing = rows(app, f"""SELECT ?s ?o WHERE {{ GRAPH ?g {{ ?s <{K}{sub}> ?o
                FILTER NOT EXISTS {{ ?s <{K}{sup}> ?o }} }} }}""")
            assert not missing, (sub, sup, missing[:3])
            checked += len(rows(app, f"SELECT ?s WHERE {{ ?s <{K}{sub}> ?o }}"))
    for sub, supers in classes.items():
        for sup in supers:
            assert not rows(app, f"SELECT ?s WHERE {{ ?s a <{K}{sub}> FILTER NOT EXISTS {{ ?s a <{K}{sup}> }} }}")
    assert checked > 0
    # The simple query of the issue: every Medium-Term Plan citation, without property paths.
    simple = rows(app, f"SELECT ?x ?r WHERE {{ ?x <{K}mtpReference> ?r }}")
    subs = [p for p, s in properties.items() if "mtpReference" in s]
    values = " ".join(f"<{K}{p}>" for p in subs)
    union = rows(app, f"SELECT DISTINCT ?x ?r WHERE {{ VALUES ?p {{ {values} }} ?x ?p ?r }}")
    assert len(simple) == len(union) > 0


def test_projects_reach_their_measure_or_banner_by_one_property(app: Flask) -> None:
    under = rows(app, f"SELECT ?p ?m WHERE {{ ?p a <{K}Project> ; <{K}measureOrBanner> ?m }}")
    either = rows(app, f"SELECT ?p ?m WHERE {{ ?p a <{K}Project> ; <{K}measure>|<{K}banner> ?m }}")
    assert {(r["p"], r["m"]) for r in under} == {(r["p"], r["m"]) for r in either}
    banners = rows(app, f"SELECT ?p WHERE {{ ?p <{K}measureOrBanner> ?b . ?b a <{K}Banner> }}")
    assert banners, "the data has projects under a banner"


def test_printed_numbers_have_an_integer_beside_them(app: Flask, client: FlaskClient) -> None:
    found = rows(app, f"SELECT ?m ?printed ?n WHERE {{ ?m <{K}printedNumber> ?printed "
                      f"OPTIONAL {{ ?m <{K}number> ?n }} }}")
    assert any(not r["printed"].value.isascii() for r in found), "the data prints full-width numbers"
    for row in found:
        assert row["n"] is not None and int(row["n"].value) == int(unicodedata.normalize("NFKC", row["printed"].value))
        assert row["n"].datatype.value == "http://www.w3.org/2001/XMLSchema#integer"
    table = list(csv.DictReader(io.StringIO(client.get("/compare.csv").get_data(as_text=True))))
    assert table
    for line in table:
        if line["measure_number"]:
            assert int(line["measure_number_value"]) == int(unicodedata.normalize("NFKC", line["measure_number"]))


def test_an_undeclared_prefix_is_named_in_both_languages(client: FlaskClient) -> None:
    query = "SELECT * WHERE {\n  ?x a geo:Place\n}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "prefix geo: is not declared" in text and "接頭辞 geo: は宣言されていません" in text
    assert "Prefix not found" in text  # the parser's own message is kept
    # Other syntax errors keep the parser's message as it is.
    other = "error at 1:25: expected one of LATERAL"
    assert explain_syntax(other, "SELECT * WHERE { ?s ?p }") == other
    assert explain_syntax("error at 1:11: expected one of Prefix not found, ['%']", "ASK { ?s :x ?o }").startswith(
        "prefix : is not declared")
