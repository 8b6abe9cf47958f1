"""The build: records → validated named graphs → dumps and store → atomic switch of release.

Nothing under ``<data_dir>/current`` changes until every step has succeeded: the new release is
written to a work directory, renamed into ``releases/`` and only then does the ``current``
symlink move to it (a rename, atomic on POSIX; ``kusei.graph.release_dir``). A failed build leaves
the served release as it was. The release's id is the digest of every file its manifest lists.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kusei.graph.gate.validate import SHAPES_DIR, load_turtle_files, to_rdflib, validate_graphs, validate_union
from kusei.graph.input.published import published_plans
from kusei.graph.input.record import RecordError
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR, SOURCES_DIR, check_input
from kusei.graph.mapping import MappedDocument, map_record
from kusei.graph.mapping.editorial import editorial_quads, interpretation_quads
from kusei.graph.mapping.reference import cited, reference_quads
from kusei.graph.publish.completion import INDEX_FILE as COMPLETION_INDEX_FILE
from kusei.graph.publish.completion import write_index as write_completion_index
from kusei.graph.publish.dumps import describe_file, sorted_quads
from kusei.graph.publish.files import copy_sources, load_store, write_dump_files
from kusei.graph.publish.ontology import ontology_quads
from kusei.graph.publish.search import INDEX_FILE as SEARCH_INDEX_FILE
from kusei.graph.publish.search import write_index as write_search_index
from kusei.graph.release_dir import build_lock, discard, disk_problem, new_work_directory, publish
from kusei.namespaces import Terms
from kusei.release import Manifest, digest_id
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


@dataclass
class Graphs:
    """The release's named graphs, before validation."""

    documents: list[ox.Quad]  # every document graph
    reference: list[ox.Quad]
    interpretation: list[ox.Quad]
    editorial: list[ox.Quad]
    ontology: list[ox.Quad]

    @property
    def data(self) -> list[ox.Quad]:
        return self.documents + self.reference + self.interpretation + self.editorial + self.ontology


def assemble(mapped: list[MappedDocument], terms: Terms, reference: Reference) -> Graphs:
    try:
        interpretation = interpretation_quads(mapped, terms, terms.graph("interpretation"))
    except ValueError as exc:  # a stated continuation naming a component no record has
        raise BuildError("linking plans across years", [str(exc)]) from exc
    return Graphs(documents=[q for d in mapped for q in d.quads],
                  reference=reference_quads(reference, terms, terms.graph("reference"), cited(mapped, terms)),
                  interpretation=interpretation,
                  editorial=editorial_quads(mapped, terms, terms.graph("editorial")),
                  ontology=ontology_quads(terms.base, terms.graph("ontology")))


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
        graphs = assemble(mapped, terms, reference)
        data = graphs.data
        graph_triples = dict(Counter(q.graph_name.value for q in sorted_quads(data)
                                     if isinstance(q.graph_name, ox.NamedNode)))  # every quad is in one

    _validate(steps, settings, shapes_dir, mapped, graphs)

    target, release_id, reused = _write_release(steps, settings, terms, mapped, data, graph_triples,
                                                sources_dir, shapes_dir)
    per_doc = {doc.record_file: doc.classes(terms.vocab) for doc in mapped}
    return BuildResult(release_id, target, graph_triples, per_doc, steps.timings, reused)


def _write_release(steps: Steps, settings: Settings, terms: Terms, mapped: list[MappedDocument], data: list[ox.Quad],
                   graph_triples: dict[str, int], sources_dir: Path, shapes_dir: Path) -> tuple[Path, str, bool]:
    """Write the release into a work directory and switch ``current`` to it: its directory, id,
    and whether the same release was already there. Nothing is published unless all is written."""
    data_dir = settings.data_dir
    try:
        work = new_work_directory(data_dir)
    except OSError as exc:
        raise BuildError("writing the release", [disk_problem(exc)]) from exc
    try:
        with steps.step("writing dumps and the search index"):
            all_files, description = write_dump_files(work, data, mapped, terms, settings, shapes_dir, graph_triples)
            copy_sources(sources_dir, work)
            named = sorted_quads(data + description)
            write_search_index(work / SEARCH_INDEX_FILE, named, settings.base)
            search_index = describe_file(work / SEARCH_INDEX_FILE, "search-index")
            write_completion_index(work / COMPLETION_INDEX_FILE, named, settings.base)

        with steps.step("loading the store"):
            load_store(work, named)

        graph_triples[terms.graph("dataset").value] = len(description)
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

    return target, release_id, reused


def _validate(steps: Steps, settings: Settings, shapes_dir: Path, mapped: list[MappedDocument],
              graphs: Graphs) -> None:
    with steps.step("validating each document against the SHACL shapes", "validating documents"):
        shapes = load_turtle_files(shapes_dir, settings.base)
        ontology = to_rdflib([q.triple for q in graphs.ontology])
        shared = [q.triple for q in graphs.reference + graphs.interpretation
                  + [q for q in graphs.editorial if q.subject == q.graph_name]]
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
