"""The pages people read, checked against the data: the plan as a document, measure and project
places, Japanese labels, search, wards, comparison, year over year, browse lists, error pages,
and the query page's downloads, paging and error explanations.

Expected values come from the store the build wrote, so the tests follow the data.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from kusei.endpoint.web.pages.resource import ResourceBuilder
from kusei.endpoint.web.pages.terms import Namer, natural_key
from kusei.namespaces import prefixes
from kusei.release import open_store
from kusei.search_index import INDEX_FILE, fold

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PLAN = "/id/plan/141089/2024"


def release_of(app: Flask):
    return app.extensions["kusei_release"].latest()


def select(app: Flask, query: str) -> list[dict]:
    # The tests read the store directly, to check the pages against the data (pages never do).
    solutions = open_store(release_of(app).path).query(query)
    return [{v.value: s[v] for v in solutions.variables} for s in solutions]


def html(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == status, (path, response.status_code)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def main_of(page: str) -> str:
    return page[page.index('<main id="main"'):page.index("</main>")]


@pytest.fixture()
def base(app: Flask) -> str:
    return release_of(app).base


# -- the plan as the document -------------------------------------------------------------------


def test_plan_page_shows_parts_in_printed_order(client: FlaskClient, app: Flask, base: str) -> None:
    page = html(client, PLAN)
    outline = page[page.index('class="block outline"'):page.index('class="all-props"')]
    measures = select(app, f"""
SELECT ?m ?num ?first WHERE {{ ?m a <{base}/def/Measure> ; <{base}/def/plan> <{base}{PLAN}> ;
  <{base}/def/printedNumber> ?num ; <{base}/def/printing>/<{base}/def/firstLine> ?first }} ORDER BY ?first""")
    assert len(measures) >= 2
    positions = []
    for row in measures:
        href = row["m"].value[len(base):]
        at = outline.index(f'<a href="{href}">')
        # The printed number heads the measure, and its source lines link into the document.
        assert f'<span class="part-number">{row["num"].value}</span>' in outline[at - 200:at]
        positions.append(at)
    assert positions == sorted(positions)
    # The groups follow the printed plan: goal, then measures, then the rest.
    assert outline.index('id="group-goal"') < outline.index('id="group-measures"') < outline.index('id="group-ward"')
    document = select(app, f"SELECT ?d WHERE {{ <{base}{PLAN}> <{base}/def/sourceDocument> ?d }}")[0]["d"]
    first_line = measures[0]["first"].value
    assert re.search(rf'href="{re.escape(document.value[len(base):])}\?lines={first_line}-\d+#L{first_line}"', outline)
    # Each project of the plan sits under its measure in the outline.
    projects = select(app, f"SELECT ?p WHERE {{ ?p a <{base}/def/Project> ; <{base}/def/plan> <{base}{PLAN}> }}")
    for row in projects:
        assert f'href="{row["p"].value[len(base):]}"' in outline
    # The generic table is still there, folded away.
    assert re.search(r'<details class="all-props">\s*<summary>', page)


def test_fy2014_plan_shows_the_banner_as_its_own_part_and_five_measures(client: FlaskClient) -> None:
    # Regression: the banner 目指せ！環境未来都市 was typed a measure, so the plan page listed it as a
    # sixth measure and the home page said 施策 6; the document prints measures 1-4 and one more.
    plan = "/id/plan/141089/2014"
    page = html(client, plan)
    outline = page[page.index('class="block outline"'):page.index('class="all-props"')]
    groups = dict(re.findall(r'<section class="part-group" id="group-(\w+)"(.*?)(?=<section class="part-group"|$)',
                             outline, re.S))
    assert list(groups)[:3] == ["goal", "banners", "measures"]
    assert "目指せ！環境未来都市" in groups["banners"] and "目指せ！環境未来都市" not in groups["measures"]
    assert groups["measures"].count('<section class="part part-measure"') == 5
    numbers = re.findall(r'<h3 class="part-title"><span class="part-number">(\d)</span>', groups["measures"])
    assert numbers == ["1", "2", "3", "4"]
    # The banner's projects and its featured column are nested under it.
    for child in ("/banner/1/project/1", "/banner/1/project/2", "/column/1"):
        assert f'href="{plan}{child}"' in groups["banners"]
    home = html(client, "/")
    entry = home[home.index(f'<a href="{plan}">'):]
    assert re.match(r'.*?</a>\s*<span class="muted">施策 5 · 事業 15</span>', entry, re.S), entry[:300]


def test_plan_incoming_links_do_not_repeat_the_outline(client: FlaskClient, app: Flask, base: str) -> None:
    page = html(client, PLAN)
    incoming = page[page.index("被参照"):] if "被参照" in page else ""
    parts = select(app, f"SELECT ?s WHERE {{ ?s <http://purl.org/dc/terms/isPartOf> <{base}{PLAN}> }}")
    assert parts
    for row in parts:
        assert f'href="{row["s"].value[len(base):]}"' not in incoming


def test_measure_lists_each_project_once(client: FlaskClient, app: Flask, base: str) -> None:
    measure = PLAN + "/measure/1"
    page = main_of(html(client, measure))
    projects = select(app, f"SELECT ?p WHERE {{ ?p <{base}/def/measure> <{base}{measure}> ; a <{base}/def/Project> }}")
    assert projects
    for row in projects:
        href = row["p"].value[len(base):]
        # Once under dcterms:hasPart, not again under isPartOf and kusei:measure links back.
        assert page.count(f'href="{href}"') == 1, href


def test_project_pages_link_previous_and_next(client: FlaskClient, app: Flask, base: str) -> None:
    rows = select(app, f"""
SELECT ?p ?pos WHERE {{ ?p <http://purl.org/dc/terms/isPartOf> <{base}{PLAN}/measure/1> ;
  a <{base}/def/Project> ; <http://schema.org/position> ?pos }} ORDER BY ?pos""")
    hrefs = [row["p"].value[len(base):] for row in rows]
    assert len(hrefs) >= 2
    for index, href in enumerate(hrefs):
        page = html(client, href)
        assert f"{index + 1} / {len(hrefs)}" in page
        if index > 0:
            assert f'<a href="{hrefs[index - 1]}" rel="prev">' in page
        else:
            assert 'rel="prev"' not in page
        if index < len(hrefs) - 1:
            assert f'<a href="{hrefs[index + 1]}" rel="next">' in page


@pytest.mark.parametrize("path", [PLAN, PLAN + "/measure/1", PLAN + "/measure/1/project/1",
                                  "/id/mascot/141089/botan-chan", "/id/organization/141089/section/koseki",
                                  "/id/document/a9155f3b6863ac96", "/id/dataset/kusei", "/id/area/141089",
                                  "/def/Measure"])
def test_every_predicate_shown_has_a_japanese_label(app: Flask, base: str, path: str) -> None:
    release = release_of(app)
    with app.app_context():
        view = ResourceBuilder(release, Namer(base, prefixes(base)), app.config["KUSEI"]).build(base + path)

    def rows(items: list) -> list:
        found = []
        for row in items:
            found.append(row)
            for value in row.values:
                found += rows(value.rows)
        return found

    missing = {row.curie for row in rows(view.rows) + rows(view.incoming) if not row.label_ja}
    assert not missing, missing


# -- search -------------------------------------------------------------------------------------


def test_folding_treats_japanese_variants_alike() -> None:
    assert fold("ぼたんちゃん") == fold("ボタンチャン") == fold("ﾎﾞﾀﾝﾁｬﾝ")
    assert fold("ＧＵＲＵＲＩ") == fold("gururi")
    assert fold("ボーダー") == fold("ボダ")
    assert fold("子 育て") == fold("子育て")
    assert fold("ぼたん") in fold("ぼたんちゃん")


def test_search_index_is_written_with_the_release(data_dir: Path) -> None:
    index = data_dir / "current" / INDEX_FILE
    assert index.is_file() and index.stat().st_size > 0


def test_search_understands_kana_and_width(client: FlaskClient, app: Flask, base: str) -> None:
    mascots = select(app, f"SELECT ?m ?name WHERE {{ ?m a <{base}/def/Mascot> ; <http://schema.org/name> ?name }}")
    botan = next(row for row in mascots if row["name"].value.startswith("ぼたん"))
    data = client.get("/search.json", query_string={"q": "ボタン"}).get_json()
    assert data["results"][0]["iri"] == botan["m"].value
    assert data["results"][0]["matched"] == "title"

    texts = select(app, 'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "GURURI")) }')
    assert texts
    found = client.get("/search", query_string={"q": "ＧＵＲＵＲＩ"}, headers={"Accept": "application/json"}).get_json()
    assert {r["iri"] for r in found["results"]} >= {row["s"].value for row in texts if row["s"].value.startswith(base)}
    assert all("GURURI" in r["highlights"] for r in found["results"])


def test_search_ranks_titles_above_descriptions(client: FlaskClient) -> None:
    data = client.get("/search.json", query_string={"q": "子育て"}).get_json()
    matched = [r["matched"] for r in data["results"]]
    assert "title" in matched and "text" in matched
    assert matched == sorted(matched, key=lambda m: m != "title")
    page = html(client, "/search?q=" + quote("子育て"))
    assert "<mark>子育て</mark>" in page
    assert page.count('<li>\n  <p class="hit-title">') == len(data["results"])


# -- wards, comparison, years, browse -----------------------------------------------------------


def test_home_lists_all_wards_and_says_which_have_plans(client: FlaskClient, app: Flask, base: str) -> None:
    wards = select(app, f"SELECT ?w ?code WHERE {{ ?w a <{base}/def/Ward> ; "
                        "<http://purl.org/dc/terms/identifier> ?code }")
    assert len(wards) == 18
    with_plans = {row["w"].value for row in select(app, f"SELECT DISTINCT ?w WHERE {{ ?p a <{base}/def/Plan> ; "
                                                        "<http://purl.org/dc/terms/spatial> ?w }")}
    page = html(client, "/")
    for row in wards:
        assert f'href="/ward/{row["code"].value}"' in page
    assert page.count('class="ward ward-empty"') == 18 - len(with_plans)
    assert page.count("No plan in the data yet.") == 18 - len(with_plans)


def _ward_with_most_plans(app: Flask, base: str) -> tuple[str, list[dict]]:
    rows = select(app, f"""
SELECT ?code ?plan ?year WHERE {{
  ?plan a <{base}/def/Plan> ; <http://purl.org/dc/terms/spatial> ?w ; <{base}/def/year> ?year .
  ?w <http://purl.org/dc/terms/identifier> ?code }} ORDER BY ?year""")
    by_ward: dict[str, list[dict]] = {}
    for row in rows:
        by_ward.setdefault(row["code"].value, []).append(row)
    code = max(by_ward, key=lambda c: len(by_ward[c]))
    return code, by_ward[code]


def test_ward_page_lists_plans_by_year_with_goals(client: FlaskClient, app: Flask, base: str) -> None:
    code, plans = _ward_with_most_plans(app, base)
    assert len(plans) >= 2
    page = html(client, f"/ward/{code}")
    positions = [page.index(f'href="{row["plan"].value[len(base):]}"') for row in plans]
    assert positions == sorted(positions)
    goals = select(app, f"SELECT ?t WHERE {{ ?p a <{base}/def/Plan> ; <http://purl.org/dc/terms/spatial> ?w ; "
                        f"<{base}/def/basicGoal>/<http://purl.org/dc/terms/title> ?t . "
                        f"?w <http://purl.org/dc/terms/identifier> \"{code}\" }}")
    for row in goals:
        assert row["t"].value in page
    data = client.get(f"/ward/{code}.json").get_json()
    assert [p["year"] for p in data["plans"]] == [int(row["year"].value) for row in plans]
    assert client.get("/ward/000000", headers={"Accept": BROWSER}).status_code == 404


def test_comparison_puts_measures_under_their_policy_areas(client: FlaskClient, app: Flask, base: str) -> None:
    pairs = select(app, f"SELECT ?m ?area ?plan WHERE {{ ?m a <{base}/def/Measure> ; <{base}/def/policyArea> ?area ; "
                        f"<{base}/def/plan> ?plan }}")
    assert pairs
    data = client.get("/compare", headers={"Accept": "application/json"}).get_json()
    cells = {(area["iri"], plan, m["iri"]) for area in data["areas"] for plan, ms in area["cells"].items() for m in ms}
    assert cells == {(row["area"].value, row["plan"].value, row["m"].value) for row in pairs}
    table = list(csv.reader(io.StringIO(client.get("/compare.csv").get_data(as_text=True))))
    assert len(table) - 1 == len(pairs)
    page = html(client, "/compare")
    for row in pairs:
        assert f'href="{row["m"].value[len(base):]}"' in page
    assert page.count("<svg") == 1 and "<script" not in main_of(page)
    # Narrowed to one plan, only its measures remain.
    plan = pairs[0]["plan"].value
    narrowed = client.get("/compare.json", query_string={"plan": plan}).get_json()
    assert [p["iri"] for p in narrowed["plans"]] == [plan]


def test_year_over_year_accounts_for_every_measure(client: FlaskClient, app: Flask, base: str) -> None:
    code, plans = _ward_with_most_plans(app, base)
    data = client.get(f"/ward/{code}/years.json").get_json()
    assert len(data["steps"]) == len(plans) - 1
    step = data["steps"][0]

    def measures(plan: str) -> set[str]:
        rows = select(app, f"SELECT ?m WHERE {{ ?m a <{base}/def/Measure> ; <{base}/def/plan> <{plan}> }}")
        return {row["m"].value for row in rows}

    changes = step["changes"]
    before = {c["before"]["iri"] for c in changes if c["status"] in ("continued", "dropped")}
    after = {c["after"]["iri"] for c in changes if c["status"] in ("continued", "new")}
    # A measure may continue as another kind of component (an office-operation item), so every
    # measure is accounted for on the side it was printed on, whatever continues it.
    assert measures(step["from"]) <= before and measures(step["to"]) <= after
    # Where Kusei's cross-year links join the two plans, the view follows them.
    links = {(row["l"].value, row["e"].value) for row in select(app, f"""
SELECT ?l ?e WHERE {{ ?l <{base}/def/continues> ?e ; <{base}/def/plan> <{step["to"]}> ; a <{base}/def/Measure> .
  ?e <{base}/def/plan> <{step["from"]}> ; a <{base}/def/Measure> }}""")}
    continued = {(c["after"]["iri"], c["before"]["iri"]) for c in changes if c["status"] == "continued"}
    assert links <= continued
    assert all(c["evidence"] for c in changes if c["status"] == "continued")
    assert "継続" in html(client, f"/ward/{code}/years")
    assert client.get(f"/ward/{code}/years.csv").mimetype == "text/csv"


def test_browse_lists(client: FlaskClient, app: Flask, base: str) -> None:
    plans = select(app, f"SELECT ?p WHERE {{ ?p a <{base}/def/Plan> }}")
    for path in ("/id/", "/id/plan/"):
        page = html(client, path)
        for row in plans:
            assert f'href="{row["p"].value[len(base):]}"' in page
    assert len(client.get("/id/plan/index.json").get_json()["wards"]) >= 1


# -- finished pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("path,status", [("/dumps/", 200), ("/no/such/page", 404), ("/id/no/such", 404),
                                         ("/dumps/no-such-file", 404)])
def test_pages_share_the_site_layout(client: FlaskClient, path: str, status: int) -> None:
    page = html(client, path, status)
    assert '<meta name="viewport"' in page and '<html lang="ja">' in page
    assert '<main id="main"' in page and 'class="skip-link"' in page and 'action="/search"' in page
    assert 'lang="en"' in page


def test_errors_stay_json_for_json_clients(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]


# -- the query page -----------------------------------------------------------------------------


def test_query_downloads_follow_the_result_kind(client: FlaskClient) -> None:
    select_page = html(client, "/query?query=" + quote("SELECT ?s WHERE { ?s a kusei:Plan }"))
    construct = html(client, "/query?query=" + quote("CONSTRUCT WHERE { ?s a kusei:Plan }"))
    assert re.search(r'<span id="dl-table" class="dl-group">', select_page)
    assert re.search(r'<span id="dl-graph" class="dl-group" hidden>', select_page)
    assert re.search(r'<span id="dl-table" class="dl-group" hidden>', construct)
    assert re.search(r'<span id="dl-graph" class="dl-group">', construct)
    for fmt in ("ttl", "nt", "jsonld"):
        assert f"format={fmt}" in construct
    assert '<div id="downloads" class="downloads" hidden>' in html(client, "/query")


def test_parse_errors_are_explained_with_the_position(client: FlaskClient) -> None:
    page = html(client, "/query?query=" + quote("SELECT * WHERE {\n  ?s ?p\n}"))
    assert 'class="explain">構文エラー' in page and 'class="explain" lang="en">A syntax error' in page
    assert re.search(r'<mark class="at">.</mark>', page)


def test_a_result_over_the_limit_is_explained() -> None:
    from kusei.endpoint.web.pages.query import explain

    ja, en = explain("The result has more than 10 rows; add a LIMIT")
    assert "上限" in ja and "never cut short" in en
    assert explain("error at 1:23: expected one of FILTER") is not None


# -- only http(s) IRIs become links -------------------------------------------------------------

HOSTILE_IRIS = ("javascript:alert(1)", "JavaScript:alert(2)", "data:text/html,<b>x</b>", "vbscript:msgbox(3)")


def test_namer_links_only_http_iris() -> None:
    namer = Namer("https://example.org/kusei", {})
    assert namer.href("https://example.org/kusei/id/x") == "/id/x"
    assert namer.href("http://other.example/y") == "http://other.example/y"
    assert namer.href("HTTPS://other.example/z") == "HTTPS://other.example/z"
    for iri in (*HOSTILE_IRIS, "urn:isbn:4-00-000000-0", "mailto:a@example.org"):
        assert namer.href(iri) is None, iri


def test_query_page_shows_non_http_iris_as_text(client: FlaskClient) -> None:
    values = " ".join(f"<{iri.replace('<', '%3C').replace('>', '%3E')}>" for iri in HOSTILE_IRIS)
    query = f"SELECT ?x WHERE {{ VALUES ?x {{ {values} <https://example.org/safe> }} }}"
    page = main_of(html(client, "/query?query=" + quote(query)))
    table = page[page.index("<tbody>"):page.index("</tbody>")]
    hrefs = re.findall(r'href="([^"]*)"', table)
    assert hrefs == ["https://example.org/safe"]
    assert table.count('<span class="iri-text"') == len(HOSTILE_IRIS)
    assert ">javascript:alert(1)<wbr></span>" in table  # still shown, as text


# -- the home page as data, and its counts ------------------------------------------------------


def test_home_is_also_json_and_csv(client: FlaskClient, app: Flask, base: str) -> None:
    wards = {row["w"].value for row in select(app, f"SELECT ?w WHERE {{ ?w a <{base}/def/Ward> }}")}
    with_plans = {row["w"].value for row in select(app, f"SELECT DISTINCT ?w WHERE {{ ?p a <{base}/def/Plan> ; "
                                                        "<http://purl.org/dc/terms/spatial> ?w }")}
    by_accept = client.get("/", headers={"Accept": "application/json"})
    assert by_accept.status_code == 200 and by_accept.mimetype == "application/json"
    assert "Accept" in by_accept.headers["Vary"]
    data = client.get("/index.json").get_json()
    assert data == by_accept.get_json()
    assert {w["iri"] for w in data["wards"]} == wards and len(data["wards"]) == 18
    assert {w["iri"] for w in data["wards"] if w["has_plans"]} == with_plans
    assert data["wards_with_plans"] == len(with_plans)
    plans = [p for w in data["wards"] for p in w["plans"]]
    assert len(plans) == data["counts"]["plans"] == len(select(app, f"SELECT ?p WHERE {{ ?p a <{base}/def/Plan> }}"))
    rows = list(csv.DictReader(io.StringIO(client.get("/index.csv").get_data(as_text=True))))
    assert {row["ward"] for row in rows} == wards
    assert {row["plan"] for row in rows if row["plan"]} == {p["iri"] for p in plans}
    # Browsers still get the page.
    assert html(client, "/").count('class="ward') >= 18


def test_home_counts_agree_with_void_and_the_dumps(client: FlaskClient, app: Flask, base: str) -> None:
    release = release_of(app)
    counts = client.get("/index.json").get_json()["counts"]
    void = select(app, f"SELECT ?n WHERE {{ <{base}/id/dataset/kusei> <http://rdfs.org/ns/void#triples> ?n }}")
    nt_lines = sum(1 for line in (release.dumps_dir / "kusei.nt").read_bytes().splitlines() if line.strip())
    assert counts["triples"] == int(void[0]["n"].value) == nt_lines
    # The default graph holds the data and the description; the page says so, with both numbers.
    description = select(app, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{base}/graph/dataset> {{ ?s ?p ?o }} }}")
    assert counts["default_graph_triples"] == nt_lines + int(description[0]["n"].value)
    assert counts["description_triples"] > 0
    page = html(client, "/")
    assert f'<span class="num">{nt_lines:,}</span>' in page
    note = page[page.index('class="note counts-note"'):]
    note = note[:note.index("</p>")]
    assert "void:triples" in note and f"{counts['default_graph_triples']:,}" in note
    assert f"{counts['description_triples']:,}" in note


# -- the query page without JavaScript: sorting, paging, the LIMIT notice -----------------------


def _result_rows(page: str) -> list[list[str]]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_query_page_sorts_on_the_server(client: FlaskClient, app: Flask, base: str) -> None:
    query = "SELECT ?plan ?year WHERE { ?plan a kusei:Plan ; kusei:year ?year }"
    years = sorted(int(r["y"].value) for r in select(app, f"SELECT ?y WHERE {{ ?p a <{base}/def/Plan> ; "
                                                            f"<{base}/def/year> ?y }}"))
    assert len(set(years)) >= 2
    page = html(client, "/query?" + urlencode({"query": query, "sort": "year", "order": "desc"}))
    shown = [int(row[1].split()[0]) for row in _result_rows(page)]
    assert shown == sorted(years, reverse=True)
    head = page[page.index("<thead>"):page.index("</thead>")]
    assert '<th scope="col" aria-sort="descending">' in head and "?year ↓" in head
    # The sorted column's link turns the order round; the other column's sorts ascending.
    links = dict((text, href) for href, text in re.findall(r'<a class="sort" href="([^"]+)"[^>]*>(\?\w+)', head))
    assert "sort=year&amp;order=asc" in links["?year"] and "sort=plan&amp;order=asc" in links["?plan"]
    ascending = html(client, "/query?" + urlencode({"query": query, "sort": "year", "order": "asc"}))
    assert [int(row[1].split()[0]) for row in _result_rows(ascending)] == years
    # A name that is no variable of the result leaves the query's own order, with no error.
    assert "aria-sort" not in html(client, "/query?" + urlencode({"query": query, "sort": "nosuch"}))


@pytest.mark.parametrize("page", ["²", "٣", "-1", "0x2", ""])
def test_a_page_number_that_is_no_plain_number_shows_the_first_page(client: FlaskClient, page: str) -> None:
    # "²" is a digit to str.isdigit() but not to int(): it was a 500.
    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 180"
    response = client.get("/query?" + urlencode({"query": query, "page": page}))
    assert response.status_code == 200
    assert "1–100 行目を表示" in response.get_data(as_text=True)


def test_query_page_pages_through_a_sorted_result(client: FlaskClient) -> None:
    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 180"
    first = html(client, "/query?" + urlencode({"query": query, "sort": "label", "order": "desc"}))
    assert "180 行" in first and "1–100 行目を表示" in first
    next_href = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "sort=label" in next_href and "order=desc" in next_href and "page=2" in next_href
    second = html(client, next_href)
    assert "101–180 行目を表示" in second
    labels = [row[1] for row in _result_rows(first) + _result_rows(second)]
    assert len(labels) == 180
    keys = [natural_key(label) for label in labels]
    assert keys == sorted(keys, reverse=True)


def test_query_page_says_when_the_querys_limit_cut_the_result(client: FlaskClient) -> None:
    cut = html(client, "/query?" + urlencode({"query": "SELECT ?p WHERE { ?p a kusei:Plan } LIMIT 2"}))
    notice = cut[cut.index('<p id="limit-notice"'):]
    notice = notice[:notice.index("</p>")]
    assert "hidden" not in notice.split(">", 1)[0] and "LIMIT 2" in notice and "more rows may match" in notice
    whole = html(client, "/query?" + urlencode({"query": "SELECT ?p WHERE { ?p a kusei:Plan } LIMIT 1000"}))
    assert '<p id="limit-notice" class="note limit-notice" hidden></p>' in whole
    # A LIMIT inside a comment or a subquery is not the query's.
    commented = "SELECT ?p WHERE { { SELECT ?p WHERE { ?p a kusei:Plan } LIMIT 2 } } # LIMIT 2"
    assert 'limit-notice" hidden>' in html(client, "/query?" + urlencode({"query": commented}))


# -- resource pages ask few questions -----------------------------------------------------------


@pytest.mark.parametrize("path", [
    PLAN, PLAN + "/measure/1", PLAN + "/measure/1/project/1", "/id/mascot/141089/botan-chan",
    "/id/organization/141089/section/koseki", "/id/document/a9155f3b6863ac96", "/id/dataset/kusei",
])
def test_resource_pages_batch_their_queries(client: FlaskClient, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each query is a round trip to a query process: a page asks a handful, not one per link.

    Counted, not timed: the real service runs every query; the wrapper only counts the calls.
    """
    from kusei.endpoint.query import service

    html(client, path)  # per-release caches (vocabulary, catalogue, graph sizes) fill here
    calls: list[str] = []
    real = service.execute

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(args[1])[:80])
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "execute", counting)
    page = html(client, path)
    assert '<main id="main"' in page
    # Before batching: 32 (plan) to 204 (dataset) calls a page.
    assert len(calls) <= 12, calls


# -- corrections --------------------------------------------------------------------------------


def _visible(page: str) -> str:
    """What a reader sees before opening anything: the main text, folded notes and tags left out,
    and the quoted source lines, which show the document as printed."""
    text = re.sub(r"<details class=\"correction\">.*?</details>", "", main_of(page), flags=re.S)
    text = re.sub(r"<div class=\"source-text\">.*?</div>", "", text, flags=re.S)
    return re.sub(r"<[^>]+>", "", text)


def test_corrections_show_where_people_read(client: FlaskClient, app: Flask, base: str) -> None:
    from kusei.endpoint.web.pages.corrections import Correction

    rows = select(app, f"""
SELECT ?s ?plan ?printed ?corrected ?note WHERE {{
  ?s <{base}/def/correction> ?c ; <{base}/def/plan> ?plan .
  ?c <{base}/def/printedText> ?printed ; <{base}/def/correctedText> ?corrected ;
     <http://www.w3.org/2000/01/rdf-schema#comment> ?note }}""")
    assert rows
    pages: dict[str, str] = {}
    for row in rows:
        fix = Correction(row["printed"].value, row["corrected"].value, row["note"].value)
        start, end, fixed_end = fix.span
        for path in (row["plan"].value[len(base):], row["s"].value[len(base):]):
            page = pages.setdefault(path, html(client, path))
            seen = _visible(page)
            # The corrected text is what one reads, the printed slip is not ...
            assert fix.corrected[max(0, start - 4):fixed_end + 4] in seen, (path, fix.corrected)
            assert fix.printed[max(0, start - 4):end + 4] not in seen, (path, fix.printed)
            # ... and the printed form with Kusei's note is one tap away.
            folded = re.findall(r"<details class=\"correction\">.*?</details>", page, flags=re.S)
            assert any(f"<del>{fix.printed[start:end]}</del>" in d and str(escape(fix.note)) in d for d in folded), path


def test_search_finds_the_printed_and_the_corrected_form(client: FlaskClient, app: Flask, base: str) -> None:
    rows = select(app, f"""
SELECT ?s ?printed ?corrected WHERE {{ ?s <{base}/def/correction> ?c ; <http://purl.org/dc/terms/title> ?t .
  ?c <{base}/def/printedText> ?printed ; <{base}/def/correctedText> ?corrected ;
     <{base}/def/correctedProperty> <http://purl.org/dc/terms/title> }}""")
    assert rows
    for row in rows:
        printed, corrected = row["printed"].value, row["corrected"].value
        for query in (printed, corrected):
            found = client.get("/search.json", query_string={"q": query}).get_json()["results"]
            hit = next(h for h in found if h["iri"] == row["s"].value)
            assert hit["title"] == corrected


def test_ward_page_numbers_measures_as_printed_once(client: FlaskClient, app: Flask, base: str) -> None:
    code, plans = _ward_with_most_plans(app, base)
    page = html(client, f"/ward/{code}")
    lists = re.findall(r'<(ol|ul) class="measure-list">(.*?)</\1>', page, flags=re.S)
    assert lists and all(tag == "ul" for tag, _ in lists), "a numbered list would number measures a second time"
    rows = select(app, f"""
SELECT ?m ?num WHERE {{ ?m a <{base}/def/Measure> ; <{base}/def/plan> ?p .
  ?p <http://purl.org/dc/terms/spatial>/<http://purl.org/dc/terms/identifier> "{code}"
  OPTIONAL {{ ?m <{base}/def/printedNumber> ?num }} }}""")
    assert any(r["num"] is None for r in rows), "the data has an unnumbered measure to check"
    for row in rows:
        item = next(body for _, body in lists for body in re.findall(r"<li>(.*?)</li>", body, flags=re.S)
                    if f'href="{row["m"].value[len(base):]}"' in body)
        numbers = re.findall(r'<span class="part-number">(.*?)</span>', item)
        assert numbers == ([row["num"].value] if row["num"] is not None else []), item
        assert not re.search(r">\d+\. ", item)


def test_plans_measures_and_projects_link_to_their_lines_marked_in_the_document(
        client: FlaskClient, app: Flask, base: str) -> None:
    rows = select(app, f"""
SELECT ?s ?doc ?first ?last WHERE {{ VALUES ?c {{ <{base}/def/Plan> <{base}/def/Measure> <{base}/def/Project> }}
  ?s a ?c ; <{base}/def/printing> ?pr . ?pr <http://www.w3.org/ns/prov#entity> ?doc ;
  <{base}/def/firstLine> ?first ; <{base}/def/lastLine> ?last }}""")
    assert len(rows) > 40
    documents: dict[str, str] = {}
    for row in rows:
        doc = row["doc"].value[len(base):]
        first, last = int(row["first"].value), int(row["last"].value)
        href = f"{doc}?lines={first}-{last}#L{first}"
        assert f'href="{href}"' in html(client, row["s"].value[len(base):]), (row["s"].value, href)
        if doc in documents:
            continue  # one marked range per document is enough to check the marking
        marked = documents.setdefault(doc, html(client, href.split("#")[0]))
        numbers = [int(n) for n in re.findall(r'<tr id="L(\d+)" class="marked">', marked)]
        assert numbers == list(range(first, last + 1)), (href, numbers[:5])
