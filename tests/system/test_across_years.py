"""Across years: the same measure, project or goal in plans of one ward for different years is
linked (an interpretation, with its evidence), so continued / new / dropped is one query."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kusei.graph.mapping.across_years import SAME_TITLE, SAME_TITLE_JA, comparable, continuation_quads
from kusei.namespaces import DCTERMS, TYPE, Terms

pytestmark = pytest.mark.system

BASE = "https://w3id.org/kusei"
KUSEI = BASE + "/def/"
EXAMPLE = Path(__file__).resolve().parents[2] / "endpoint" / "queries" / "15-continued-new-dropped.rq"


def select(server_url: str, query: str) -> list[dict[str, str]]:
    response = requests.post(f"{server_url}/sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def test_the_same_title_in_two_years_is_linked_and_a_different_one_is_not(tmp_path: Path) -> None:
    terms = Terms(BASE)
    graph = ox.DefaultGraph()

    def component(plan: str, local: str, title: str) -> list[ox.Quad]:
        node = ox.NamedNode(f"{BASE}/id/plan/{plan}/{local}")
        return [ox.Quad(node, TYPE, terms.kusei("Project"), graph),
                ox.Quad(node, terms.kusei("plan"), ox.NamedNode(f"{BASE}/id/plan/{plan}"), graph),
                ox.Quad(node, ox.NamedNode(DCTERMS + "title"), ox.Literal(title, language="ja"), graph)]

    quads = (component("141089/2014", "measure/1/project/1", "金沢まつり")
             + component("141089/2024", "measure/2/project/1", "金沢まつり")
             + component("141089/2024", "measure/2/project/2", "別の事業")
             + component("141097/2024", "measure/1/project/1", "金沢まつり"))  # another ward
    stated = tmp_path / "none.yaml"
    stated.write_text("[]\n", encoding="utf-8")
    out = continuation_quads(quads, terms, graph, stated)
    links = {(q.subject.value, q.object.value) for q in out if q.predicate == terms.kusei("continues")}
    later = f"{BASE}/id/plan/141089/2024/measure/2/project/1"
    earlier = f"{BASE}/id/plan/141089/2014/measure/1/project/1"
    assert links == {(later, earlier)}
    assert [q.object.value for q in out if q.predicate == terms.kusei("evidence")] == [SAME_TITLE, SAME_TITLE_JA]
    assert comparable("地域の皆さまと共に“つくる”！") == comparable("地域の皆様と共に「つくる」!")


def test_every_link_joins_an_earlier_and_a_later_plan_of_one_ward_with_evidence(server_url: str) -> None:
    rows = select(server_url, f"""PREFIX kusei: <{KUSEI}> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?link ?early ?late ?evidence ?evidenceJa ?ew ?lw ?ey ?ly ?et ?lt ?g WHERE {{
          GRAPH ?g {{ ?late kusei:continues ?early }}
          ?link kusei:earlier ?early ; kusei:later ?late ; kusei:evidence ?evidence FILTER(lang(?evidence) = "en")
          ?link kusei:evidence ?evidenceJa FILTER(lang(?evidenceJa) = "ja")
          ?early kusei:plan [ dcterms:spatial ?ew ; kusei:year ?ey ] ; rdfs:label ?et .
          ?late kusei:plan [ dcterms:spatial ?lw ; kusei:year ?ly ] ; rdfs:label ?lt .
          FILTER(lang(?et) = "ja" && lang(?lt) = "ja") }}""")
    assert len({r["link"] for r in rows}) >= 6
    for row in rows:
        assert row["g"] == f"{BASE}/graph/interpretation"
        assert row["ew"] == row["lw"] and int(row["ey"]) < int(row["ly"])
        assert row["link"].startswith(row["late"] + "#continues-")
        if row["evidence"] == SAME_TITLE:
            assert row["et"] == row["lt"]
        elif row["evidence"].startswith("Same title"):
            assert comparable(row["lt"]) in comparable(row["et"]) or comparable(row["et"]) in comparable(row["lt"])
        else:
            assert row["evidence"].startswith("Stated similarity: ")
    by_title = {r["lt"] for r in rows if r["evidence"].startswith("Same title")}
    assert "金沢防災「えん」づくり事業" in by_title


def test_continued_new_dropped_is_one_query(server_url: str) -> None:
    rows = select(server_url, EXAMPLE.read_text(encoding="utf-8"))
    status = Counter(r["status"] for r in rows)
    assert status["continued"] >= 6 and status["new"] >= 1 and status["dropped"] >= 1
    # Every FY2014 component is either continued or dropped, every FY2024 one continued or new.
    counts = select(server_url, f"""PREFIX kusei: <{KUSEI}> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?y (COUNT(DISTINCT ?c) AS ?n) WHERE {{
          ?ward dcterms:identifier "141089" . ?plan dcterms:spatial ?ward ; kusei:year ?y .
          VALUES ?t {{ kusei:BasicGoal kusei:Banner kusei:Measure kusei:Project kusei:OperationItem }}
          ?c kusei:plan ?plan ; a ?t }} GROUP BY ?y""")
    per_year = {int(r["y"]): int(r["n"]) for r in counts}
    planned = [r for r in rows if r["status"] != "in both"]
    assert len({r["fy2014"] for r in planned if "fy2014" in r}) == per_year[2014]
    assert len({r["fy2024"] for r in planned if "fy2024" in r}) == per_year[2024]
    # FY2014's banner (目指せ！環境未来都市) is listed as a banner, not as a dropped measure.
    assert [r["label2014"] for r in rows if r["type"] == f"{KUSEI}Banner"] == ["目指せ！環境未来都市"]
    assert "目指せ！環境未来都市" not in {r.get("label2014") for r in rows if r["type"] == f"{KUSEI}Measure"}
    # The mascot printed in both years is one node, found by its two printings.
    assert any(r["status"] == "in both" and r["fy2014"].endswith("/botan-chan") for r in rows)


def _csv(server_url: str, path: str) -> list[dict[str, str]]:
    response = requests.get(server_url + path, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv"), path
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_year_over_year_view_gives_example_15s_answer_for_every_ward_with_two_plans(server_url: str) -> None:
    plans = select(server_url, f"""PREFIX kusei: <{KUSEI}> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?code ?year WHERE {{ ?plan a kusei:Plan ; kusei:year ?year ; dcterms:spatial/dcterms:identifier ?code }}
        ORDER BY ?code ?year""")
    years: dict[str, list[int]] = {}
    for row in plans:
        years.setdefault(row["code"], []).append(int(row["year"]))
    compared = {code: ys for code, ys in years.items() if len(ys) >= 2}
    assert compared, "no ward has two plans with a fiscal year"
    example = EXAMPLE.read_text(encoding="utf-8")
    assert example.count('dcterms:identifier "141089"') == 1
    for code, ys in compared.items():
        view = _csv(server_url, f"/ward/{code}/years.csv")
        assert {(r["from_plan"], r["to_plan"]) for r in view} == {
            (f"{BASE}/id/plan/{code}/{a}", f"{BASE}/id/plan/{code}/{b}") for a, b in zip(ys, ys[1:], strict=False)}
        for before, after in zip(ys, ys[1:], strict=False):
            query = (example.replace('dcterms:identifier "141089"', f'dcterms:identifier "{code}"')
                     .replace("kusei:year 2014", f"kusei:year {before}")
                     .replace("kusei:year 2024", f"kusei:year {after}"))
            expected = {(r["status"], r["type"], r.get("fy2014", ""), r.get("fy2024", ""))
                        for r in select(server_url, query)}
            shown = {(r["status"], KUSEI + r["kind"], r["before"], r["after"]) for r in view
                     if r["to_plan"] == f"{BASE}/id/plan/{code}/{after}"}
            assert shown == expected, (code, before, after, shown ^ expected)
            # Every continued row carries its evidence in the view as in the interpretation graph.
            assert all(r["evidence"] and r["evidence_ja"] for r in view if r["status"] == "continued")


def test_kanazawa_2014s_unnumbered_measure_continues_as_an_operation_item(server_url: str) -> None:
    rows = _csv(server_url, "/ward/141089/years.csv")
    u5 = f"{BASE}/id/plan/141089/2014/measure/u5"
    assert [(r["status"], r["kind"], r["after"]) for r in rows if r["before"] == u5] == [
        ("continued", "OperationItem", f"{BASE}/id/plan/141089/2024/operation/1")]
    # The projects under FY2014's banner are accounted for like those under a measure.
    banner_projects = select(server_url, f"""PREFIX kusei: <{KUSEI}>
        SELECT ?p WHERE {{ ?p a kusei:Project ; kusei:banner ?b ; kusei:plan <{BASE}/id/plan/141089/2014> }}""")
    assert banner_projects
    listed = {r["before"] for r in rows}
    assert {r["p"] for r in banner_projects} <= listed
