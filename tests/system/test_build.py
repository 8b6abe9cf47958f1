"""The build: what it publishes, that it is reproducible, and that bad input publishes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from graph_input import copy_input

import kusei.graph.build
from kusei.graph.build import BuildError, build
from kusei.graph.input.textmatch import squash
from kusei.graph.input.verify import RECORDS_DIR
from kusei.namespaces import DCAT, SPDX
from kusei.release import Manifest, digest_id
from kusei.settings import Settings

pytestmark = pytest.mark.system  # full builds of the records, through the SHACL gate

EXEMPLAR = "000_a9155f3b6863ac96.yaml"
KUSEI = "https://w3id.org/kusei/def/"


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("build")
    result = build(Settings(data_dir=data_dir), report=quiet)
    return result.path


@pytest.fixture(scope="module")
def store(release: Path) -> ox.Store:
    return ox.Store.read_only(str(release / "store"))


def select(store: ox.Store, query: str) -> list[tuple]:
    solutions = store.query(query, use_default_graph_as_union=True)
    return [tuple(s[v] for v in solutions.variables) for s in solutions]


def test_release_layout_and_manifest(release: Path) -> None:
    manifest = json.loads((release / "release.json").read_text())
    assert manifest["id"] == release.name
    names = {f["name"] for f in manifest["files"]}
    for stem in ("kusei.ttl", "kusei.trig", "kusei.nq", "kusei.nt", "kusei.jsonld"):
        assert stem in names and f"{stem}.gz" in names
    assert {"shapes.ttl", "validation-report.ttl", "void.ttl", "context.jsonld"} <= names
    for entry in manifest["files"]:
        data = (release / "dumps" / entry["name"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    sums = (release / "dumps" / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(manifest["files"])
    # The search index beside the store is part of the release too, described like the dumps.
    index = manifest["search_index"]
    data = (release / "search.json").read_bytes()
    assert index["name"] == "search.json" and index["media_type"] == "application/json"
    assert index["bytes"] == len(data) and index["sha256"] == hashlib.sha256(data).hexdigest()
    held = Manifest.model_validate(manifest).held()
    assert "search.json" in held and len(held) == len(manifest["files"]) + 1
    for path, described in held.items():
        assert hashlib.sha256((release / path).read_bytes()).hexdigest() == described.sha256, path
    records = sorted(RECORDS_DIR.glob("*.yaml"))
    assert len(manifest["documents"]) == len(records)
    assert sorted((release / "sources").glob("*.txt")) != []


def test_one_named_graph_per_document_plus_reference_graphs(store: ox.Store, release: Path) -> None:
    graphs = {g.value for g in store.named_graphs()}
    manifest = json.loads((release / "release.json").read_text())
    for doc_id in manifest["documents"]:
        assert f"https://w3id.org/kusei/graph/document/{doc_id}" in graphs
    for name in ("reference", "interpretation", "ontology", "dataset"):
        assert f"https://w3id.org/kusei/graph/{name}" in graphs
    # the default graph is the merge of the named graphs: every triple once
    default = {str(q.triple) for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    named = {str(q.triple) for g in store.named_graphs() for q in store.quads_for_pattern(None, None, None, g)}
    assert default == named
    botan = ox.NamedNode("https://w3id.org/kusei/id/mascot/141089/botan-chan")
    names = list(store.query(f"SELECT ?n WHERE {{ <{botan.value}> <http://schema.org/name> ?n }}"))
    assert len(names) == 1  # printed in two documents, one solution in the default graph


def test_build_is_reproducible(release: Path, tmp_path: Path) -> None:
    again = build(Settings(data_dir=tmp_path), report=quiet)
    assert again.release_id == release.name
    for path in (release / "dumps").iterdir():
        assert (again.path / "dumps" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_changed_search_index_is_a_new_release(release: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: search.json was outside the release id, so a build whose index alone changed
    # (a new index version, a new field) kept the old id and servers kept the old index.
    write_index = kusei.graph.build.write_search_index

    def write_changed_index(path: Path, quads: list[ox.Quad], base: str) -> int:
        entries = write_index(path, quads, base)
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return entries

    monkeypatch.setattr(kusei.graph.build, "write_search_index", write_changed_index)
    changed = build(Settings(data_dir=tmp_path), report=quiet)
    assert changed.release_id != release.name
    for path in (release / "dumps").iterdir():  # the dumps are the same: only the index differs
        assert (changed.path / "dumps" / path.name).read_bytes() == path.read_bytes(), path.name
    manifest = Manifest.model_validate_json((changed.path / "release.json").read_bytes())
    assert manifest.search_index is not None
    assert manifest.search_index.sha256 == hashlib.sha256((changed.path / "search.json").read_bytes()).hexdigest()
    assert digest_id(manifest.files, manifest.search_index) == manifest.id


def test_dataset_description_states_true_sizes_and_checksums(release: Path) -> None:
    graph = ox.parse(path=str(release / "dumps" / "void.ttl"), format=ox.RdfFormat.TURTLE)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph)
    rows = store.query(f"""
        SELECT ?url ?size ?sum WHERE {{
          ?d <{DCAT}downloadURL> ?url ; <{DCAT}byteSize> ?size ;
             <{SPDX}checksum>/<{SPDX}checksumValue> ?sum }}""")
    seen = 0
    for row in rows:
        name = row["url"].value.rsplit("/", 1)[-1]
        data = (release / "dumps" / name).read_bytes()
        assert int(row["size"].value) == len(data)
        assert row["sum"].value == hashlib.sha256(data).hexdigest()
        seen += 1
    assert seen >= 12


def test_every_document_entity_points_at_lines_that_print_its_title(store: ox.Store, release: Path) -> None:
    rows = select(store, f"""
        SELECT ?e ?file ?first ?last ?title WHERE {{
          ?e <{KUSEI}printing> ?p ; <http://purl.org/dc/terms/title> ?title .
          ?p <http://www.w3.org/ns/prov#entity> ?doc ; <{KUSEI}firstLine> ?first ; <{KUSEI}lastLine> ?last .
          ?doc <{KUSEI}fileName> ?file }}""")
    assert len(rows) >= 10
    for entity, file, first, last, title in rows:
        lines = (release / "sources" / file.value).read_text(encoding="utf-8").splitlines()
        first, last = int(first.value), int(last.value)
        assert 1 <= first <= last <= len(lines), entity
        window = squash("".join(re.sub(r"^\s*(#{1,6}\s+|-\s+)", "", line) for line in lines[first - 1:last]))
        assert squash(title.value) in window, (entity, title.value, first, last)


def test_corrections_keep_the_printed_text(store: ox.Store) -> None:
    rows = select(store, f"""
        SELECT ?printed ?corrected ?value WHERE {{
          ?e <{KUSEI}correction> ?c . ?c <{KUSEI}printedText> ?printed ; <{KUSEI}correctedText> ?corrected ;
             <{KUSEI}correctedProperty> ?p . ?e ?p ?value }}""")
    assert rows
    for printed, corrected, value in rows:
        assert printed.value != corrected.value
        assert printed.value in value.value  # the value published is the printed form


def test_other_base_rebases_every_minted_iri(tmp_path: Path) -> None:
    result = build(Settings(data_dir=tmp_path, base="http://example.org/k"), report=quiet)
    nquads = (result.path / "dumps" / "kusei.nq").read_text(encoding="utf-8")
    assert "https://w3id.org/kusei" not in nquads
    assert "<http://example.org/k/def/Plan>" in nquads


# --- bad input: each stops the build with file, line/field and reason, and publishes nothing ---

BAD_RECORDS = {
    "yaml syntax": (lambda t: t.replace("title: 子育て応援事業}", "title: 子育て応援事業"), r":\d+: \(yaml\)"),
    "missing field": (lambda t: t.replace("      title: 暮らしの安全・安心\n", ""),
                      r":\d+: plan\.measures\[2\]\.title: missing required field"),
    "unknown key": (lambda t: t.replace("  kind: newsletter\n", "  kind: newsletter\n  colour: red\n"),
                    r":\d+: document\.colour: unknown key"),
    "wrong type": (lambda t: t.replace("population: 194207", "population: many"),
                   r":\d+: population\.population: .*integer"),
    "text not in document": (lambda t: t.replace("子育て応援事業}", "子育て応援事業です}"),
                             r":\d+: plan\.measures\[0\]\.projects\[1\]\.title: text not found"),
    "population text not in document": (lambda t: t.replace("194,207人", "194,208人"),
                                        r":\d+: population\.population_printed: text not found"),
    "duplicate number": (lambda t: t.replace('  - number: "4"', '  - number: "3"'),
                         r":\d+: plan\.measures\[3\]\.number: duplicate measure number"),
    "unknown section type": (lambda t: t.replace("key: koseki", "key: kosekii"),
                             r"sections\[0\]\.key: unknown key 'kosekii' \(did you mean koseki\?\); valid keys"),
}


@pytest.fixture()
def published(tmp_path: Path) -> tuple[Settings, Path]:
    records = copy_input(tmp_path / "input", [EXEMPLAR])
    settings = Settings(data_dir=tmp_path / "data")
    build(settings, records_dir=records, report=quiet)
    return settings, records


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_record_stops_the_build_and_keeps_the_release(case: str, published: tuple[Settings, Path]) -> None:
    settings, records = published
    before = os.readlink(settings.data_dir / "current")
    mutate, expected = BAD_RECORDS[case]
    path = records / EXEMPLAR
    original = path.read_text(encoding="utf-8")
    changed = mutate(original)
    assert changed != original, "the mutation must apply"
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(settings, records_dir=records, report=quiet)
    report = info.value.report()
    assert EXEMPLAR in report
    assert re.search(expected, report), report
    assert os.readlink(settings.data_dir / "current") == before
    current = settings.data_dir / "current"
    assert ox.Store.read_only(str(current / "store")) is not None
    assert not [p for p in (settings.data_dir / "releases").iterdir() if p.name.startswith(".build-")]


def test_shape_violation_stops_the_build(published: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, records = published
    before = os.readlink(settings.data_dir / "current")
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "strict.ttl").write_text(f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:test:MascotNeedsThreeRoles> a sh:NodeShape ; sh:targetClass <{KUSEI}Mascot> ;
          sh:property [ sh:path <{KUSEI}role> ; sh:minCount 3 ; sh:message "a mascot needs three roles"@en ] .
        """, encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(settings, records_dir=records, shapes_dir=shapes, report=quiet)
    report = info.value.report()
    assert f"{EXEMPLAR}: https://w3id.org/kusei/id/mascot/141089/botan-chan" in report
    assert "a mascot needs three roles" in report and f"{KUSEI}role" in report
    assert os.readlink(settings.data_dir / "current") == before


def test_one_build_reports_the_problems_of_every_record(published: tuple[Settings, Path]) -> None:
    settings, records = published
    broken = sorted(records.glob("*.yaml"))[:2]
    for path in broken:
        path.write_text(path.read_text(encoding="utf-8").replace("\nplan:\n", "\nplan:\n  colour: blue\n", 1),
                        encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(settings, records_dir=records, report=quiet)
    report = info.value.report()
    for path in broken:
        assert re.search(rf"{re.escape(path.name)}:\d+: plan.colour: unknown key colour", report), report


def test_a_killed_builds_work_directory_is_removed_by_the_next_build(published: tuple[Settings, Path]) -> None:
    # Regression: a killed build left releases/.build-* behind for ever.
    settings, records = published
    releases = settings.data_dir / "releases"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = releases / f".build-{dead.pid}-abc"
    (stale / "dumps").mkdir(parents=True)
    running = releases / f".build-{os.getpid()}-def"  # a build still running (this process) is left alone
    running.mkdir()
    build(settings, records_dir=records, report=quiet)
    assert not stale.exists()
    assert running.exists()


def test_a_disk_that_cannot_be_written_is_one_line_with_the_path(tmp_path: Path) -> None:
    # Regression: a read-only or full disk ended the build in a raw traceback.
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "releases").write_text("not a directory", encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(Settings(data_dir=data_dir), report=quiet)
    (line,) = info.value.problems
    assert "releases" in line and "\n" not in line


def test_a_disk_failure_while_switching_is_one_line_and_leaves_no_work_directory(tmp_path: Path) -> None:
    # The late half of the same promise: the release is written, then the switch of ``current``
    # fails (here a directory stands where the symlink goes, as a disk refusing the rename would).
    data_dir = tmp_path / "data"
    (data_dir / "current").mkdir(parents=True)
    (data_dir / "current" / "keep").write_text("not a release", encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(Settings(data_dir=data_dir), report=quiet)
    (line,) = info.value.problems
    assert re.search(rf"-> {re.escape(str(data_dir / 'current'))}: \S", line), line
    assert "\n" not in line
    assert list((data_dir / "releases").glob(".build-*")) == []
    assert (data_dir / "current" / "keep").is_file()


PROVENANCE = {KUSEI + p for p in ("sourceDocument", "printing", "firstLine", "lastLine")} | {
    "http://www.w3.org/ns/prov#entity"}


def _provenance_shape(store: ox.Store, classes: tuple[str, ...]) -> dict[str, set[tuple[str, str]]]:
    """Per class: (provenance predicate, what its value is: a class or a datatype) on its instances."""
    shape: dict[str, set[tuple[str, str]]] = {}
    for cls in classes:
        rows = store.query(f"""
            SELECT DISTINCT ?p ?kind WHERE {{
              ?s a <{KUSEI}{cls}> ; ?p ?o . VALUES ?p {{ {" ".join(f"<{p}>" for p in PROVENANCE)} }}
              OPTIONAL {{ ?o a ?c FILTER(STRSTARTS(STR(?c), "{KUSEI}")) }}
              BIND(COALESCE(STR(DATATYPE(?o)), STR(?c), "iri") AS ?kind) }}""", use_default_graph_as_union=True)
        shape[cls] = {(row["p"].value, row["kind"].value) for row in rows}
    return shape


def test_bench_data_has_the_provenance_shape_of_the_build(store: ox.Store, tmp_path: Path) -> None:
    # Regression: bench/generate.py hung xsd:positiveInteger lines on the entities, while the build
    # writes them, as xsd:integer, on one kusei:Printing node per (entity, document).
    out = tmp_path / "bench.nq"
    subprocess.run([sys.executable, "-m", "bench.generate", "--wards", "1", "--years", "1", "-o", str(out)],
                   cwd=Path(__file__).resolve().parents[2], check=True, capture_output=True, timeout=300)
    synthetic = ox.Store()
    synthetic.bulk_load(path=str(out), format=ox.RdfFormat.N_QUADS)
    classes = ("Plan", "BasicGoal", "Measure", "Project", "ActionItem", "Printing")
    built, generated = _provenance_shape(store, classes), _provenance_shape(synthetic, classes)
    for cls in classes:
        assert generated[cls], cls
        assert generated[cls] == built[cls], cls


def test_the_fy2014_banner_is_not_a_measure_and_its_projects_hang_off_it(store: ox.Store) -> None:
    # Regression: 目指せ！環境未来都市, a theme printed above the measures of 金沢区's FY2014 plan, was
    # typed kusei:Measure, so the plan counted 6 measures where the document prints 1-4 and one more.
    plan = "https://w3id.org/kusei/id/plan/141089/2014"
    ((banner, position),) = select(store, f"""
        SELECT DISTINCT ?b ?pos WHERE {{
          ?b <{KUSEI}plan> <{plan}> ; <http://purl.org/dc/terms/title> "目指せ！環境未来都市"@ja ;
             a <{KUSEI}Banner> ; <http://schema.org/position> ?pos }}""")
    assert banner.value == f"{plan}/banner/1" and position.value == "1"
    assert not select(store, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{banner.value}> a <{KUSEI}Measure> }} }}")
    measures = select(store, f"""
        SELECT DISTINCT ?m ?pos ?num WHERE {{
          ?m a <{KUSEI}Measure> ; <{KUSEI}plan> <{plan}> ; <http://schema.org/position> ?pos
          OPTIONAL {{ ?m <{KUSEI}printedNumber> ?num }} }}""")
    numbered = sorted((int(pos.value), num.value if num else None, m.value.rsplit("/", 1)[-1])
                      for m, pos, num in measures)
    assert numbered == [(1, "1", "1"), (2, "2", "2"), (3, "3", "3"), (4, "4", "4"), (5, None, "u5")]
    # Its two projects and its featured column hang off the banner, and no project of it names a measure.
    projects = select(store, f"""
        SELECT DISTINCT ?p ?title WHERE {{ ?p a <{KUSEI}Project> ; <{KUSEI}banner> <{banner.value}> ;
                                  <http://purl.org/dc/terms/isPartOf> <{banner.value}> ; <{KUSEI}plan> <{plan}> ;
                                  <http://purl.org/dc/terms/title> ?title
                                  FILTER NOT EXISTS {{ ?p <{KUSEI}measure> ?m }} }} ORDER BY ?p""")
    assert [(p.value.removeprefix(banner.value), t.value) for p, t in projects] == [
        ("/project/1", "Let's エコアクション！ 応援事業"),
        ("/project/2", "子育て情報スマートタッチ！「かなざわ育なび.net」推進事業")]
    columns = select(store, f"SELECT DISTINCT ?c ?t WHERE {{ ?c <{KUSEI}banner> <{banner.value}> ; "
                            f"a <{KUSEI}Column> ; <http://purl.org/dc/terms/title> ?t }}")
    assert [t.value for _, t in columns] == ["『金沢区における環境未来都市づくり』"]
    assert len(select(store, f"SELECT DISTINCT ?p WHERE {{ ?p a <{KUSEI}Project> ; <{KUSEI}plan> <{plan}> }}")) == 15
