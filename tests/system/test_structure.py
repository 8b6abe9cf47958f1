"""Structure kept as printed: groups as printed, sections linked to the measure they are printed
under, a slip in a handle recorded as a correction (the IRI from the corrected form), and
superclass types stated so queries need no inference."""

from __future__ import annotations

import unicodedata

import pytest
import requests

from kusei.graph.input.record import load_record
from kusei.graph.input.verify import RECORDS_DIR

pytestmark = pytest.mark.system

BASE = "https://w3id.org/kusei"
PREFIXES = (f"PREFIX kusei: <{BASE}/def/>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n")


def select(server_url: str, query: str) -> list[dict[str, str]]:
    response = requests.post(f"{server_url}/sparql", data={"query": PREFIXES + query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def test_every_infrastructure_project_is_a_facility_project_without_inference(server_url: str) -> None:
    facility = {r["x"] for r in select(server_url, "SELECT ?x WHERE { ?x a kusei:FacilityProject }")}
    infrastructure = {r["x"] for r in select(server_url, "SELECT ?x WHERE { ?x a kusei:InfrastructureProject }")}
    assert infrastructure and infrastructure <= facility
    minted = {r["x"] for r in select(server_url, "SELECT DISTINCT ?x WHERE { ?x kusei:plan ?p "
                                                 "FILTER(CONTAINS(STR(?x), '/facility-project/')) }")}
    assert facility == minted
    mascots = {r["x"] for r in select(server_url, "SELECT ?x WHERE { ?x a kusei:Mascot }")}
    characters = {r["x"] for r in select(server_url, "SELECT ?x WHERE { ?x a kusei:Character }")}
    assert mascots and mascots <= characters


def test_a_slip_in_a_handle_is_a_correction_and_the_iri_uses_the_corrected_form(server_url: str) -> None:
    rows = select(server_url, """SELECT ?account ?name ?printed ?corrected ?g WHERE {
        ?account a foaf:OnlineAccount ; foaf:accountName ?name ; kusei:printedHandle ?printed .
        GRAPH ?g { ?account kusei:correction ?c . ?c kusei:correctedProperty kusei:printedHandle ;
                   kusei:printedText ?slip ; kusei:correctedText ?corrected } }""")
    assert rows
    for row in rows:
        assert row["g"] == f"{BASE}/graph/editorial"
        assert row["account"].endswith("/" + row["corrected"].removeprefix("@"))
        assert row["name"] == row["corrected"].removeprefix("@") != row["printed"].removeprefix("@")


def test_the_four_powers_are_a_group_of_their_own(server_url: str) -> None:
    # A printed fact of 港北区's document (003_32e2ae0216829679.yaml, plan.operation).
    rows = select(server_url, """SELECT ?group ?title WHERE { ?item a kusei:OperationItem ; kusei:group ?group ;
        kusei:plan/dcterms:spatial <https://w3id.org/kusei/id/area/141097> OPTIONAL { ?item dcterms:title ?title } }""")
    groups: dict[str, set[str]] = {}
    for row in rows:
        groups.setdefault(row["group"], set()).add(row.get("title", ""))
    four = next((titles for group, titles in groups.items() if "仕事力" in group), None)
    assert four is not None, (f"no operation group printed with 仕事力 in 港北区's plan (groups: {sorted(groups)}); "
                              "003_32e2ae0216829679.yaml, plan.operation[].group should hold it as printed")
    assert {"聴く力", "考える力", "行動する力", "伝える力"} <= four
    assert not any(title.endswith("職場") for title in four)
    assert not any(title.endswith("力") and "職場" not in title and title != "職員の力 職場の力"
                   for group, titles in groups.items() if "仕事力" not in group for title in titles)


def _printed_under() -> dict[tuple[str, str], str]:
    """From the records: (section IRI, measure IRI) for every section printed under a measure, with
    the record line that says so."""
    expected = {}
    for path in sorted(RECORDS_DIR.glob("*.yaml")):
        record, lines = load_record(path)
        ward, year = record.document.ward, record.plan.fiscal_year.year
        for index, section in enumerate(record.sections):
            if section.measure is not None:
                number = unicodedata.normalize("NFKC", section.measure)
                key = (f"{BASE}/id/organization/{ward}/section/{section.key}",
                       f"{BASE}/id/plan/{ward}/{year}/measure/{number}")
                expected[key] = f"{path.name}:{lines.get(('sections', index, 'measure'))}"
    return expected


def test_sections_are_linked_to_the_measure_they_are_printed_under(server_url: str) -> None:
    rows = select(server_url, """SELECT ?section ?measure ?g WHERE {
        GRAPH ?g { ?section kusei:printedUnder ?measure } ?measure kusei:printedNumber ?number }""")
    expected = _printed_under()
    served = {(row["section"], row["measure"]) for row in rows}
    for key, where in expected.items():
        assert key in served, (f"{where}: sections[].measure puts {key[0]} under {key[1]}, which the data does "
                               "not link (kusei:printedUnder); is the measure number the one printed?")
    assert served <= set(expected), f"links no record states: {sorted(served - set(expected))}"
    for row in rows:
        assert row["g"].startswith(f"{BASE}/graph/document/")


def test_a_bullet_printed_as_title_and_description_keeps_them_apart(server_url: str) -> None:
    rows = select(server_url, """SELECT ?item ?title ?description ?label WHERE { ?item a kusei:ActionItem ;
        dcterms:title ?title ; dcterms:description ?description ;
        <http://www.w3.org/2000/01/rdf-schema#label> ?label }""")
    titles = {r["title"] for r in rows}
    assert {"信頼される行政サービスの提供", "住民サービスの向上"} <= titles
    for row in rows:
        assert row["label"] == row["title"] and "～" not in row["title"] + row["description"]
    # No bullet anywhere still holds a "title ～ description" in one string.
    joined = select(server_url, """SELECT ?item WHERE { ?item a kusei:ActionItem ;
        <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(CONTAINS(?l, " ～ ")) }""")
    assert joined == []
