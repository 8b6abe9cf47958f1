"""Synthetic Kusei-shaped data for benchmarks: wards x fiscal years x measures x projects x items.

The shapes (IRIs, classes, properties, one named graph per plan document, a reference graph,
an interpretation graph) follow graph/README.md, and provenance is written as the build writes it
(a kusei:Printing node per entity holding the document and xsd:integer lines); the texts are
random Japanese-looking labels. The defaults (18 wards x 20 years) give about 2 million quads.
Deterministic for a given seed.

Fiscal years start at 2014, so that 11 years (bench.run's default) run to 2024 and hold the two
Kanazawa plans the published examples compare. Besides the plans' measures, projects and items,
every kind of thing a published example (endpoint/queries) or a bench query asks about is there,
so that each returns rows: a mascot per ward printed by each of its plans, named sections with
their missions, city bureaus and a bureau project per plan, a contact point, a population
observation, a printed slip with its correction, and each measure continuing the measure of
the same number in the ward's previous plan (kusei:continues and a kusei:Continuation).

    python -m bench.generate --wards 18 --years 20 -o var/bench/data.nq
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path

BASE = "https://w3id.org/kusei"
KUSEI = f"{BASE}/def/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
QB = "http://purl.org/linked-data/cube#"
SDMX = "http://purl.org/linked-data/sdmx/2009/dimension#"
SCHEMA = "http://schema.org/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"

WARDS = [
    "141011", "141020", "141038", "141046", "141054", "141062", "141071", "141089", "141097",
    "141101", "141119", "141127", "141135", "141143", "141151", "141160", "141178", "141186",
]
WARD_NAMES = [
    "鶴見区", "神奈川区", "西区", "中区", "南区", "保土ケ谷区", "磯子区", "金沢区", "港北区",
    "戸塚区", "港南区", "旭区", "緑区", "瀬谷区", "栄区", "泉区", "青葉区", "都筑区",
]
SECTIONS = ["somu", "kusei-suishin", "chiiki-shinko", "fukushi-hoken", "kodomo-katei", "doboku"]
POLICY_AREAS = [
    "child-rearing", "disaster-prevention", "safety", "welfare-health", "attractiveness",
    "culture-sport", "environment", "community", "local-economy", "infrastructure",
]
WORDS = [
    "地域", "子育て", "防災", "支援", "推進", "まちづくり", "高齢者", "健康", "安全", "安心",
    "つながり", "環境", "緑", "商店街", "魅力", "発信", "協働", "学び", "文化", "スポーツ",
    "見守り", "活動", "交流", "情報", "充実", "強化", "取組", "多世代", "脱炭素", "減災",
]
START_YEAR = 2014
BUREAUS = [("kodomo", "こども青少年局", "Children and Youth Bureau"),
           ("doro", "道路局", "Road and Highway Bureau"),
           ("kankyo", "みどり環境局", "Environmental Planning Bureau")]
_KIND_JA = {"theme": "テーマ", "strategy": "戦略", "policy": "政策"}


def _lit(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


def _int(value: int, datatype: str = "integer") -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


class _Writer:
    """Collects quad lines for one graph and counts them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, s: str, p: str, o: str, g: str) -> None:
        subject = s if s.startswith("_:") else f"<{s}>"  # a blank node's label as it is
        self.lines.append(f"{subject} <{p}> {o} <{g}> .\n")


def _text(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(words))


def _printed(w: _Writer, g: str, node: str, doc: str, first: int, last: int) -> None:
    """Provenance as the build writes it (graph/mapping/emitter.py): the lines sit on a
    kusei:Printing node ``<entity>#in-<document id>`` paired with the document, not on the entity,
    and are xsd:integer, the datatype Oxigraph serves unchanged."""
    printing = f"{node}#in-{doc.rsplit('/', 1)[-1]}"
    w.add(node, f"{KUSEI}sourceDocument", f"<{doc}>", g)
    w.add(node, f"{KUSEI}printing", f"<{printing}>", g)
    w.add(printing, RDF_TYPE, f"<{KUSEI}Printing>", g)
    w.add(printing, f"{PROV}entity", f"<{doc}>", g)
    w.add(printing, f"{KUSEI}firstLine", _int(first), g)
    w.add(printing, f"{KUSEI}lastLine", _int(last), g)


def _entity(w: _Writer, g: str, node: str, cls: str, label: str, doc: str, line: int) -> None:
    w.add(node, RDF_TYPE, f"<{KUSEI}{cls}>", g)
    w.add(node, f"{RDFS}label", _lit(label, "ja"), g)
    _printed(w, g, node, doc, line, line + 2)


def reference_graph() -> Iterator[str]:
    g = f"{BASE}/graph/reference"
    w = _Writer()
    city = f"{BASE}/id/area/141003"
    w.add(city, RDF_TYPE, f"<{KUSEI}City>", g)
    w.add(city, f"{RDFS}label", _lit("横浜市", "ja"), g)
    for code, name in zip(WARDS, WARD_NAMES, strict=True):
        area = f"{BASE}/id/area/{code}"
        office = f"{BASE}/id/organization/{code}"
        w.add(area, RDF_TYPE, f"<{KUSEI}Ward>", g)
        w.add(area, f"{RDFS}label", _lit(name, "ja"), g)
        w.add(area, f"{KUSEI}localGovernmentCode", _lit(code), g)
        w.add(area, f"{DCT}identifier", _lit(code), g)
        w.add(area, f"{SCHEMA}containedInPlace", f"<{city}>", g)
        w.add(area, f"{KUSEI}office", f"<{office}>", g)
        w.add(office, RDF_TYPE, f"<{KUSEI}WardOffice>", g)
        w.add(office, f"{RDFS}label", _lit(f"{name}役所", "ja"), g)
        w.add(office, f"{KUSEI}jurisdiction", f"<{area}>", g)
        for key in SECTIONS:
            section = f"{office}/section/{key}"
            w.add(section, RDF_TYPE, f"<{KUSEI}Section>", g)
            w.add(section, f"{ORG}subOrganizationOf", f"<{office}>", g)
            w.add(section, f"{KUSEI}sectionType", f"<{BASE}/id/section-type/{key}>", g)
            w.add(section, f"{SCHEMA}name", _lit(f"{name}{key}課", "ja"), g)
            w.add(section, f"{ORG}purpose", _lit(f"{name}の{key}に関すること", "ja"), g)
    city_office = f"{BASE}/id/organization/141003"
    for key, ja, en in BUREAUS:
        bureau = f"{city_office}/bureau/{key}"
        w.add(bureau, RDF_TYPE, f"<{KUSEI}Bureau>", g)
        w.add(bureau, f"{RDFS}label", _lit(ja, "ja"), g)
        w.add(bureau, f"{RDFS}label", _lit(en, "en"), g)
        w.add(bureau, f"{ORG}unitOf", f"<{city_office}>", g)
    mtp = f"{BASE}/id/mtp/2022-2025"
    schemes = (("theme", "MTPTheme", 6), ("strategy", "MTPStrategy", 9), ("policy", "MTPPolicy", 38))
    for kind, cls, count in schemes:
        for n in range(1, count + 1):
            node = f"{mtp}/{kind}/{n:02d}" if kind == "theme" else f"{mtp}/{kind}/{n}"
            w.add(node, RDF_TYPE, f"<{KUSEI}{cls}>", g)
            w.add(node, f"{SKOS}prefLabel", _lit(f"{kind} {n}", "en"), g)
            w.add(node, f"{SKOS}prefLabel", _lit(f"{_KIND_JA[kind]}{n}", "ja"), g)
            w.add(node, f"{SKOS}notation", _lit(str(n)), g)
            w.add(node, f"{SKOS}inScheme", f"<{mtp}>", g)
    for year in range(START_YEAR, START_YEAR + 40):
        fy = f"{BASE}/id/fiscal-year/{year}"
        w.add(fy, RDF_TYPE, f"<{KUSEI}FiscalYear>", g)
        w.add(fy, f"{KUSEI}year", _int(year), g)
    for key in POLICY_AREAS:
        node = f"{BASE}/id/policy-area/{key}"
        w.add(node, RDF_TYPE, f"<{KUSEI}PolicyArea>", g)
        w.add(node, f"{SKOS}prefLabel", _lit(key, "en"), g)
        w.add(node, f"{SKOS}prefLabel", _lit(f"分野 {key}", "ja"), g)
    yield from w.lines


def plan_graph(
    rng: random.Random, ward: str, year: int, measures: int, projects: int, items: int
) -> tuple[list[str], list[str]]:
    """The quads of one plan document's graph, and its interpretation-graph quads."""
    digest = hashlib.sha256(f"{ward}/{year}".encode()).hexdigest()[:16]
    doc = f"{BASE}/id/document/{digest}"
    g = f"{BASE}/graph/document/{digest}"
    gi = f"{BASE}/graph/interpretation"
    w, wi = _Writer(), _Writer()
    w.add(doc, RDF_TYPE, f"<{KUSEI}SourceDocument>", g)
    w.add(doc, f"{DCT}title", _lit(f"令和{year - 2018}年度 区運営方針", "ja"), g)
    w.add(doc, f"{KUSEI}sha256", _lit(digest * 4), g)
    w.add(doc, f"{KUSEI}fileName", _lit(f"{ward}_{year}_{digest}.pdf"), g)
    plan = f"{BASE}/id/plan/{ward}/{year}"
    line = 1
    _entity(w, g, plan, "Plan", f"{year}年度 区運営方針", doc, line)
    w.add(plan, f"{DCT}title", _lit(_text(rng, 4), "ja"), g)
    w.add(plan, f"{DCT}spatial", f"<{BASE}/id/area/{ward}>", g)
    w.add(plan, f"{DCT}publisher", f"<{BASE}/id/organization/{ward}>", g)
    w.add(plan, f"{KUSEI}fiscalYear", f"<{BASE}/id/fiscal-year/{year}>", g)
    w.add(plan, f"{KUSEI}year", _int(year), g)
    w.add(plan, f"{KUSEI}fiscalYearPrinted", _lit(f"令和{year - 2018}年度", "ja"), g)
    w.add(plan, f"{KUSEI}fiscalYearInferred", f'"false"^^<{XSD}boolean>', g)
    w.add(plan, f"{KUSEI}preface", _lit(_text(rng, 40), "ja"), g)
    w.add(plan, f"{KUSEI}citesBasicStrategy", f"<{BASE}/id/mtp/2022-2025/basic-strategy>", g)
    w.add(plan, f"{PROV}wasDerivedFrom", f"<{doc}>", g)
    # A printed slip in the plan's title and its correction (a blank node, as the build writes).
    correction = f"_:c{digest}"
    w.add(plan, f"{KUSEI}correction", correction, g)
    w.add(correction, RDF_TYPE, f"<{KUSEI}TextCorrection>", g)
    w.add(correction, f"{KUSEI}correctedProperty", f"<{DCT}title>", g)
    w.add(correction, f"{KUSEI}printedText", _lit("区運営方鍼", "ja"), g)
    w.add(correction, f"{KUSEI}correctedText", _lit("区運営方針", "ja"), g)
    w.add(correction, f"{RDFS}comment", _lit("OCR slip.", "en"), g)
    area, office = f"{BASE}/id/area/{ward}", f"{BASE}/id/organization/{ward}"
    # The ward's mascot: one node, printed by every plan of the ward.
    mascot = f"{BASE}/id/mascot/{ward}/mascot"
    _entity(w, g, mascot, "Character", f"{ward}くん", doc, 3)
    w.add(mascot, RDF_TYPE, f"<{KUSEI}Mascot>", g)
    w.add(mascot, f"{SCHEMA}name", _lit(f"{ward}くん", "ja"), g)
    w.add(mascot, f"{KUSEI}role", _lit("区のマスコット", "ja"), g)
    w.add(mascot, f"{KUSEI}mascotOf", f"<{area}>", g)
    bureau_key = BUREAUS[year % len(BUREAUS)][0]
    bureau_project = f"{plan}/bureau-project/1"
    _entity(w, g, bureau_project, "BureauProject", _text(rng, 3), doc, 6)
    w.add(bureau_project, f"{DCT}title", _lit(_text(rng, 4), "ja"), g)
    w.add(bureau_project, f"{KUSEI}responsibleBureau", f"<{BASE}/id/organization/141003/bureau/{bureau_key}>", g)
    w.add(bureau_project, f"{DCT}spatial", f"<{area}>", g)
    w.add(bureau_project, f"{KUSEI}plan", f"<{plan}>", g)
    contact = f"{plan}/contact/kusei-suishin"
    w.add(contact, RDF_TYPE, f"<{SCHEMA}ContactPoint>", g)
    w.add(contact, f"{RDFS}label", _lit("区政推進課", "ja"), g)
    _printed(w, g, contact, doc, 7, 7)
    w.add(contact, f"{SCHEMA}name", _lit("区政推進課 企画調整係", "ja"), g)
    w.add(contact, f"{KUSEI}topic", _lit("区運営方針について", "ja"), g)
    w.add(contact, f"{SCHEMA}telephone", _lit(f"045-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}", "ja"), g)
    w.add(contact, f"{KUSEI}plan", f"<{plan}>", g)
    w.add(contact, f"{KUSEI}section", f"<{office}/section/kusei-suishin>", g)
    observation = f"{BASE}/id/observation/{ward}/{year}-04-01"
    _entity(w, g, observation, "PopulationObservation", f"{year}年4月1日の人口", doc, 8)
    population = rng.randint(90_000, 350_000)
    w.add(observation, f"{QB}dataSet", f"<{BASE}/id/dataset/population>", g)
    w.add(observation, f"{SDMX}refArea", f"<{area}>", g)
    w.add(observation, f"{SDMX}refPeriod", _lit(f"{year}-04-01", datatype=f"{XSD}date"), g)
    w.add(observation, f"{KUSEI}population", _int(population), g)
    w.add(observation, f"{KUSEI}households", _int(population * 10 // 22), g)
    w.add(observation, f"{KUSEI}asOfPrinted", _lit(f"{year}年4月1日現在", "ja"), g)
    goal = f"{plan}/goal"
    _entity(w, g, goal, "BasicGoal", _text(rng, 3), doc, 5)
    w.add(plan, f"{KUSEI}basicGoal", f"<{goal}>", g)
    w.add(goal, f"{KUSEI}plan", f"<{plan}>", g)
    w.add(goal, f"{DCT}description", _lit(_text(rng, 30), "ja"), g)
    line = 10
    for m in range(1, measures + 1):
        measure = f"{plan}/measure/{m}"
        _entity(w, g, measure, "Measure", _text(rng, 3), doc, line)
        line += 3
        w.add(measure, f"{KUSEI}plan", f"<{plan}>", g)
        w.add(measure, f"{KUSEI}printedNumber", _lit(str(m)), g)
        w.add(measure, f"{SCHEMA}position", _int(m), g)
        w.add(measure, f"{DCT}title", _lit(_text(rng, 4), "ja"), g)
        w.add(measure, f"{DCT}description", _lit(_text(rng, 25), "ja"), g)
        w.add(measure, f"{DCT}isPartOf", f"<{plan}>", g)
        w.add(plan, f"{DCT}hasPart", f"<{measure}>", g)
        w.add(measure, f"{KUSEI}section",
              f"<{BASE}/id/organization/{ward}/section/{rng.choice(SECTIONS)}>", g)
        wi.add(measure, f"{KUSEI}policyArea", f"<{BASE}/id/policy-area/{rng.choice(POLICY_AREAS)}>", gi)
        if year > START_YEAR:
            earlier = f"{BASE}/id/plan/{ward}/{year - 1}/measure/{m}"
            link = f"{measure}#continues-{year - 1}"
            wi.add(measure, f"{KUSEI}continues", f"<{earlier}>", gi)
            wi.add(link, RDF_TYPE, f"<{KUSEI}Continuation>", gi)
            wi.add(link, f"{KUSEI}earlier", f"<{earlier}>", gi)
            wi.add(link, f"{KUSEI}later", f"<{measure}>", gi)
            wi.add(link, f"{KUSEI}evidence", _lit("Same printed number.", "en"), gi)
        for p in range(1, projects + 1):
            project = f"{measure}/project/{p}"
            _entity(w, g, project, "Project", _text(rng, 3), doc, line)
            line += 3
            w.add(project, f"{KUSEI}plan", f"<{plan}>", g)
            w.add(project, f"{KUSEI}measure", f"<{measure}>", g)
            w.add(project, f"{SCHEMA}position", _int(p), g)
            w.add(project, f"{DCT}title", _lit(_text(rng, 4), "ja"), g)
            w.add(project, f"{DCT}description", _lit(_text(rng, 20), "ja"), g)
            w.add(project, f"{DCT}isPartOf", f"<{measure}>", g)
            w.add(measure, f"{DCT}hasPart", f"<{project}>", g)
            policy = rng.randint(1, 38)
            w.add(project, f"{KUSEI}mtpPolicy", f"<{BASE}/id/mtp/2022-2025/policy/{policy}>", g)
            w.add(project, f"{KUSEI}mtpStrategy", f"<{BASE}/id/mtp/2022-2025/strategy/{policy % 9 + 1}>", g)
            w.add(project, f"{KUSEI}mtpReferenceText", _lit(f"中期計画 政策{policy}", "ja"), g)
            wi.add(project, f"{KUSEI}sdg", f"<http://metadata.un.org/sdg/{rng.randint(1, 17)}>", gi)
            for i in range(1, items + 1):
                item = f"{project}/item/{i}"
                _entity(w, g, item, "ActionItem", _text(rng, 6), doc, line)
                w.add(item, f"{KUSEI}itemOf", f"<{project}>", g)
                w.add(item, f"{SCHEMA}position", _int(i), g)
                w.add(item, f"{KUSEI}plan", f"<{plan}>", g)
                w.add(item, f"{DCT}isPartOf", f"<{project}>", g)
                w.add(project, f"{DCT}hasPart", f"<{item}>", g)
                line += 1
    return w.lines, wi.lines


def generate(out, *, wards: int, years: int, measures: int, projects: int, items: int, seed: int) -> int:
    """Write N-Quads to the text stream ``out``; return the number of quads written."""
    rng = random.Random(seed)
    count = 0
    lines = list(reference_graph())
    out.writelines(lines)
    count += len(lines)
    for ward in WARDS[:wards]:
        for year in range(START_YEAR, START_YEAR + years):
            doc_lines, interp_lines = plan_graph(rng, ward, year, measures, projects, items)
            out.writelines(doc_lines)
            out.writelines(interp_lines)
            count += len(doc_lines) + len(interp_lines)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wards", type=int, default=18, help="1-18 (default 18)")
    parser.add_argument("--years", type=int, default=20, help="fiscal years per ward (default 20)")
    parser.add_argument("--measures", type=int, default=10, help="measures per plan")
    parser.add_argument("--projects", type=int, default=6, help="projects per measure")
    parser.add_argument("--items", type=int, default=5, help="action items per project")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, help="N-Quads file (default: stdout)")
    args = parser.parse_args(argv)
    if not 1 <= args.wards <= len(WARDS):
        parser.error(f"--wards must be 1-{len(WARDS)}")
    sizes = dict(wards=args.wards, years=args.years, measures=args.measures, projects=args.projects,
                 items=args.items, seed=args.seed)
    if args.output is None:
        count = generate(sys.stdout, **sizes)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with args.output.open("w", encoding="utf-8") as out:
            count = generate(out, **sizes)
    print(f"{count} quads", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
