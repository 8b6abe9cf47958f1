"""The build: records → validated named graphs → dumps and store → atomic switch of release.

Nothing under ``<data_dir>/current`` changes until every step has succeeded: the new release is
written to a work directory, renamed into ``releases/`` and only then does the ``current``
symlink move to it (a rename, atomic on POSIX; ``kusei.graph.release_dir``). A failed build leaves
the served release as it was. The release's id is the digest of every file its manifest lists.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kusei.formats import rdf_bytes
from kusei.graph.gate.validate import (
    ONTOLOGY_DIR,
    SHAPES_DIR,
    load_turtle_files,
    rebased_turtle,
    to_rdflib,
    validate_graphs,
    validate_union,
)
from kusei.graph.input.record import RecordError
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR, SOURCE_SUFFIX, SOURCES_DIR, check_input
from kusei.graph.mapping import MappedDocument, map_record
from kusei.graph.mapping.across_years import continuation_quads
from kusei.graph.publish.completion import INDEX_FILE as COMPLETION_INDEX_FILE
from kusei.graph.publish.completion import write_index as write_completion_index
from kusei.graph.publish.dataset import Counts, dataset_quads
from kusei.graph.publish.dumps import (
    describe_file,
    sorted_quads,
    stable_blank_nodes,
    write_checksums,
    write_dumps,
)
from kusei.graph.publish.search import INDEX_FILE as SEARCH_INDEX_FILE
from kusei.graph.publish.search import write_index as write_search_index
from kusei.graph.release_dir import build_lock, discard, disk_problem, new_work_directory, publish
from kusei.namespaces import PROV, RDFS, SH, TYPE, Terms, jsonld_context, lit, prefixes, typed
from kusei.release import MANIFEST_NAME, Manifest, digest_id
from kusei.settings import Settings


class BuildError(Exception):
    """The build stopped; ``problems`` says where and why, one line each."""

    def __init__(self, step: str, problems: list[str]) -> None:
        super().__init__(f"{step}: {len(problems)} problem(s)")
        self.step = step
        self.problems = problems

    def report(self) -> str:
        return "\n".join([f"build failed while {self.step}:", *(f"  {p}" for p in self.problems),
                          "nothing was published; the previous release is still served."])


@dataclass
class BuildResult:
    release_id: str
    path: Path
    graph_triples: dict[str, int]
    classes_per_document: dict[str, dict[str, int]]
    timings: dict[str, float] = field(default_factory=dict)
    reused: bool = False


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Steps:
    def __init__(self, report: Callable[[str], None]) -> None:
        self.report = report
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, short: str | None = None) -> Iterator[None]:
        """Time the step ``name``; ``timings`` keys it by ``short`` (default: its first word)."""
        self.report(f"· {name} …")
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings[short or name.split(" ")[0]] = elapsed
        self.report(f"  {name}: {elapsed:.2f} s")


def load_and_map(records_dir: Path, sources_dir: Path, terms: Terms, reference: Reference,
                 published: dict[str, str] | None = None,
                 report: Callable[[str], None] = _stderr) -> list[MappedDocument]:
    paths = sorted(records_dir.glob("*.yaml"))
    if not paths:
        raise BuildError("reading records", [f"no *.yaml records in {records_dir}"])
    # The same checks as `python -m kusei.graph.input.verify`; every problem of every file in one run.
    outcome = check_input(paths, sources_dir, reference, published=published)
    for note in outcome.notes:
        report(f"  note: {note}")
    problems = [str(p) for p in [*outcome.errors, *outcome.todos]]
    mapped: list[MappedDocument] = []
    for checked in [] if problems else outcome.checked:
        try:
            mapped.append(map_record(checked.record, checked.path.name, checked.lines, checked.spans,
                                     checked.source, terms, reference))
        except RecordError as exc:
            problems.append(str(exc))
    if problems:
        raise BuildError("reading records", problems)
    return mapped


def published_plans(data_dir: Path, report: Callable[[str], None] = _stderr) -> dict[str, str]:
    """The plans of the release ``current`` serves now: ``ward/year`` → document id (none if no release)."""
    release = data_dir / "current"
    if not (release / MANIFEST_NAME).is_file():
        return {}
    try:
        base = Manifest.model_validate_json((release / MANIFEST_NAME).read_bytes()).base
        store = ox.Store.read_only(str(release / "store"))
        t = Terms(base)
        rows = store.query(f"SELECT ?plan ?doc WHERE {{ GRAPH ?g {{ ?plan a {t.kusei('Plan')} ; "
                           f"{t.kusei('sourceDocument')} ?doc }} }}")
        plans = {row["plan"].value.split("/id/plan/", 1)[-1]: row["doc"].value.rsplit("/", 1)[-1]
                 for row in rows}  # type: ignore[union-attr,index]
        del store
        gc.collect()
    except (OSError, RuntimeError, ValueError) as exc:
        # A broken release must not stop the build that replaces it; the check is skipped, loudly.
        report(f"  warning: cannot read the plans {release} publishes ({exc}); records are not checked "
               "against them (document.supersedes)")
        return {}
    return plans


def _cited(mapped: list[MappedDocument], terms: Terms) -> dict[str, set]:
    found: dict[str, set] = {"themes": set(), "strategies": set(), "policies": set()}
    prefix = terms.mtp().value + "/"
    for doc in mapped:
        for quad in doc.quads:
            value = getattr(quad.object, "value", "")
            if isinstance(quad.object, ox.NamedNode) and value.startswith(prefix):
                kind, _, number = value[len(prefix):].partition("/")
                if kind == "theme":
                    found["themes"].add(number)
                elif kind == "strategy":
                    found["strategies"].add(int(number))
                elif kind == "policy":
                    found["policies"].add(int(number))
    return found


def _years(mapped: list[MappedDocument], terms: Terms) -> set[int]:
    year_prop = terms.kusei("year")
    return {int(t.object.value) for d in mapped for t in [*(q.triple for q in d.quads), *d.editorial]
            if t.predicate == year_prop and isinstance(t.object, ox.Literal)}


def _interpretation_quads(mapped: list[MappedDocument], terms: Terms, graph: ox.NamedNode) -> list[ox.Quad]:
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for d in mapped for t in d.interpretation]
    try:
        quads += continuation_quads([q for d in mapped for q in d.quads], terms, graph)
    except ValueError as exc:  # a stated continuation naming a component no record has
        raise BuildError("linking plans across years", [str(exc)]) from exc
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "Kusei's editorial interpretations: the policy areas of each measure, the SDGs a project "
        "serves, and which measure, project or goal of a later plan continues one of an earlier plan of the "
        "same ward (kusei:continues, with the evidence on a kusei:Continuation). The documents do not state "
        "these; they are offered for comparison and can be disputed.", "en"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(PROV + "wasAttributedTo"), terms.id("agent/kusei"), graph))
    return quads


def _editorial_quads(mapped: list[MappedDocument], terms: Terms, graph: ox.NamedNode) -> list[ox.Quad]:
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for d in mapped for t in d.editorial]
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "Kusei's editorial statements about the documents' entities, which the documents do not print: "
        "notes on each document's origin and licence, its kind, fiscal years Kusei inferred (with the "
        "reasons), publishers where no issuer is printed, corrections of printed slips, and types the "
        "text does not state. The document graphs hold only what their documents print; leave this "
        "graph out (FROM / GRAPH) to read the print alone.", "en"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(RDFS + "comment"), lit(
        "資料に印刷されていない、Kusei による編集上の記述(資料の出所・ライセンスの注記、資料の種別、推定した年度と"
        "その根拠、発行者が印刷されていない資料の発行者、誤記の訂正、本文が述べていない種別)。文書グラフには資料に"
        "印刷されたことだけがある。", "ja"), graph))
    quads.append(ox.Quad(graph, ox.NamedNode(PROV + "wasAttributedTo"), terms.id("agent/kusei"), graph))
    return quads


def _ontology_quads(base: str, graph: ox.NamedNode) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        text = rebased_turtle(path, base)
        triples = stable_blank_nodes(list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE)))
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return quads


def _counts(data: list[ox.Quad], terms: Terms, graph_triples: dict[str, int]) -> Counts:
    classes: dict[str, set] = defaultdict(set)
    subjects: set[str] = set()
    namespaces: set[str] = set()
    id_prefix = terms.ids
    for quad in data:
        if quad.predicate == TYPE and isinstance(quad.object, ox.NamedNode):
            classes[quad.object.value].add(quad.subject)
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(id_prefix):
            subjects.add(quad.subject.value)
        for term in (quad.predicate, quad.object if quad.predicate == TYPE else None):
            if isinstance(term, ox.NamedNode):
                value = term.value
                cut = max(value.rfind("#"), value.rfind("/"))
                namespaces.add(value[: cut + 1])
    distinct = {(str(q.subject), str(q.predicate), str(q.object)) for q in data}
    examples = sorted(s for s in subjects if "/id/plan/" in s and s.count("/") == id_prefix.count("/") + 2)
    return Counts(graph_triples=graph_triples, triples=len(distinct), entities=len(subjects),
                  classes={c: len(s) for c, s in classes.items()},
                  vocabularies=sorted(n for n in namespaces if not n.startswith(terms.ids)),
                  examples=examples[:5])


def _validation_report(terms: Terms, mapped: list[MappedDocument]) -> bytes:
    # Written by us rather than dumped from pyshacl, so the file is identical build to build.
    quads = []
    graph = ox.DefaultGraph()
    for doc in mapped:
        node = terms.id(f"dataset/kusei/validation/{doc.doc_id}")
        quads += [
            ox.Quad(node, TYPE, ox.NamedNode(SH + "ValidationReport"), graph),
            ox.Quad(node, ox.NamedNode(SH + "conforms"), typed(True, "boolean"), graph),
            ox.Quad(node, ox.NamedNode(RDFS + "comment"), lit(
                f"{doc.record_file} (named graph {doc.graph.value}) with Kusei's editorial statements about "
                "it and the reference and interpretation graphs, validated against shapes.ttl", "en"), graph),
        ]
    node = terms.id("dataset/kusei/validation/merged")
    quads += [
        ox.Quad(node, TYPE, ox.NamedNode(SH + "ValidationReport"), graph),
        ox.Quad(node, ox.NamedNode(SH + "conforms"), typed(True, "boolean"), graph),
        ox.Quad(node, ox.NamedNode(RDFS + "comment"), lit(
            "The merged default graph (every document graph with the reference and interpretation "
            "graphs, as the SPARQL default graph and kusei.ttl give it), validated against shapes.ttl", "en"), graph),
    ]
    triples = [q.triple for q in sorted_quads(quads)]
    return rdf_bytes(triples, ox.RdfFormat.TURTLE, {"sh": SH, "rdfs": RDFS})


def build(settings: Settings | None = None, *, records_dir: Path = RECORDS_DIR,
          sources_dir: Path | None = None, shapes_dir: Path = SHAPES_DIR,
          report: Callable[[str], None] = _stderr) -> BuildResult:
    """Build a release from ``records_dir`` and ``sources_dir`` (default: ``sources/`` beside the
    records, as in ``graph/``: a copy of the graph input builds as it is)."""
    settings = settings or Settings()
    sources_dir = sources_dir if sources_dir is not None else records_dir.parent / SOURCES_DIR.name
    with ExitStack() as stack:
        try:
            stack.enter_context(build_lock(settings.data_dir, report))
        except OSError as exc:  # a read-only or full disk: one line, as for the release itself
            raise BuildError("taking the build lock", [disk_problem(exc)]) from exc
        return _build(settings, records_dir, sources_dir, shapes_dir, report)


def _build(settings: Settings, records_dir: Path, sources_dir: Path, shapes_dir: Path,
           report: Callable[[str], None]) -> BuildResult:
    # Under the build lock from before the records are read until the switch: see build_lock.
    terms = Terms(settings.base)
    steps = Steps(report)
    reference = Reference()

    with steps.step("reading records and checking every text against its document"):
        published = published_plans(settings.data_dir, report)
        mapped = load_and_map(records_dir, sources_dir, terms, reference, published, report)

    with steps.step("assembling named graphs"):
        cited = _cited(mapped, terms)
        reference_graph = terms.graph("reference")
        reference_quads = reference.quads(terms, reference_graph, years=_years(mapped, terms), **cited)
        interpretation_graph = terms.graph("interpretation")
        interpretation_quads = _interpretation_quads(mapped, terms, interpretation_graph)
        editorial_quads = _editorial_quads(mapped, terms, terms.graph("editorial"))
        ontology_quads = _ontology_quads(settings.base, terms.graph("ontology"))
        data = ([q for d in mapped for q in d.quads] + reference_quads + interpretation_quads + editorial_quads
                + ontology_quads)
        graph_triples = dict(Counter(q.graph_name.value for q in sorted_quads(data)
                                     if isinstance(q.graph_name, ox.NamedNode)))  # every quad is in one

    with steps.step("validating each document against the SHACL shapes", "validating documents"):
        shapes = load_turtle_files(shapes_dir, settings.base)
        ontology = to_rdflib([q.triple for q in ontology_quads])
        shared = [q.triple for q in reference_quads + interpretation_quads
                  + [q for q in editorial_quads if q.subject == q.graph_name]]
        # Each document is validated with Kusei's editorial statements about it: the shapes
        # describe an entity as the dataset gives it, printed and editorial together.
        parts = [(d.record_file, [q.triple for q in d.quads] + d.editorial) for d in mapped]
        outcome = validate_graphs(parts, shared, shapes, ontology)
        if not outcome.conforms:
            raise BuildError("validating each document against the SHACL shapes", [str(v) for v in outcome.violations])

    with steps.step("validating the merged default graph against the SHACL shapes", "validating the union"):
        merged = validate_union(parts, shared, shapes, ontology)
        steps.report("  merged graph: " + ("every node judged" if merged.judged is None else
                                           f"{merged.judged} nodes where documents meet judged"))
        if not merged.conforms:
            raise BuildError("validating the merged default graph against the SHACL shapes",
                             [str(v) for v in merged.violations])

    data_dir = settings.data_dir
    try:
        work = new_work_directory(data_dir)
    except OSError as exc:
        raise BuildError("writing the release", [disk_problem(exc)]) from exc
    try:
        with steps.step("writing dumps and the search index"):
            dumps_dir = work / "dumps"
            files = write_dumps(dumps_dir, data, prefixes(settings.base), jsonld_context(settings.base))
            shapes_text = "".join(rebased_turtle(p, settings.base) for p in sorted(shapes_dir.glob("*.ttl")))
            (dumps_dir / "shapes.ttl").write_text(shapes_text, encoding="utf-8")
            (dumps_dir / "validation-report.ttl").write_bytes(_validation_report(terms, mapped))
            files += [describe_file(dumps_dir / "shapes.ttl", "shapes"),
                      describe_file(dumps_dir / "validation-report.ttl", "validation-report")]
            dataset_graph = terms.graph("dataset")
            counts = _counts(data, terms, graph_triples)
            description = sorted_quads(dataset_quads(terms, settings, dataset_graph, files, counts))
            void = rdf_bytes([q.triple for q in description], ox.RdfFormat.TURTLE, prefixes(settings.base))
            (dumps_dir / "void.ttl").write_bytes(void)
            all_files = sorted([*files, describe_file(dumps_dir / "void.ttl", "void")], key=lambda f: f.name)
            write_checksums(dumps_dir, all_files)
            # The documents' texts only; each has a record (checked while reading the records).
            shutil.copytree(sources_dir, work / "sources", ignore=lambda _, names: [
                name for name in names if not name.endswith(SOURCE_SUFFIX)])
            named = sorted_quads(data + description)
            write_search_index(work / SEARCH_INDEX_FILE, named, settings.base)
            search_index = describe_file(work / SEARCH_INDEX_FILE, "search-index")
            write_completion_index(work / COMPLETION_INDEX_FILE, named, settings.base)

        with steps.step("loading the store"):
            store = ox.Store(str(work / "store"))
            store.extend(named)
            # The SPARQL default graph is the merge of all named graphs, stored once per triple:
            # pyoxigraph's union-graph flag repeats a solution for every graph that holds the
            # triple and overrides a query's FROM, so the endpoint queries this graph instead.
            # Streamed: the store keeps one copy of a triple that several graphs hold, so the
            # quads need no dedup (a sorted dedup copy of every triple peaked at ~590 MiB of heap
            # per million quads).
            store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in named)
            store.flush()
            del store
            gc.collect()  # closes the RocksDB handle before the directory is renamed

        graph_triples[dataset_graph.value] = len(description)
        release_id = digest_id(all_files, search_index)
        Manifest(
            id=release_id, base=settings.base, published_at=settings.published_at, modified=settings.modified,
            graphs=dict(sorted(graph_triples.items())), files=all_files, search_index=search_index,
            documents={d.doc_id: d.record_file for d in mapped},
        ).write(work)
        target, reused = publish(work, data_dir, release_id, keep=settings.keep_releases)
        if reused and not (target / COMPLETION_INDEX_FILE).exists():
            # A release published before the completion index existed (same data, same id) gets it
            # now; written aside and renamed, so a reader sees the whole file or none.
            aside = target / f".{COMPLETION_INDEX_FILE}.{os.getpid()}"
            write_completion_index(aside, named, settings.base)
            os.replace(aside, target / COMPLETION_INDEX_FILE)
    except OSError as exc:
        # A full or read-only disk: one line with the path, not a traceback.
        discard(work)
        raise BuildError("writing the release", [disk_problem(exc)]) from exc
    except BaseException:
        discard(work)
        raise

    per_doc: dict[str, dict[str, int]] = {}
    for doc in mapped:
        types = Counter(q.object.value.rsplit("/", 1)[-1] for q in doc.quads
                        if q.predicate == TYPE and isinstance(q.object, ox.NamedNode)
                        and q.object.value.startswith(terms.vocab))
        per_doc[doc.record_file] = dict(sorted(types.items()))
    return BuildResult(release_id, target, graph_triples, per_doc, steps.timings, reused)

