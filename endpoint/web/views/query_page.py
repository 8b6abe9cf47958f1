"""The query page: SPARQL in a form, with examples; the server renders, sorts and pages the result
for readers without JavaScript, and the script (static/query.js) does the same in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

from flask import Response, abort, current_app, render_template, request

from kusei import formats
from kusei.endpoint.query import service
from kusei.endpoint.web import current
from kusei.endpoint.web.pages import canned, completion, pinned
from kusei.endpoint.web.pages.query import (
    EXPLANATIONS,
    PAGE_SIZE,
    QueryError,
    ResultTable,
    csv_with_bom,
    load_examples,
    run_query,
)
from kusei.endpoint.web.pages.result_chart import VIEWS
from kusei.endpoint.web.views.page_common import bp, json_response, page_namer, render
from kusei.release import Release


@bp.get("/query")
def query_page() -> Response:
    release = current.release()
    query = request.args.get("query", "")
    # A canned query's form: the example with its #param lines bound to the chosen values.
    example_id = request.args.get("example")
    if example_id and not query:
        chosen = next((ex for ex in load_examples(release.base) if ex.id == example_id), None)
        if chosen is None:
            abort(404, description=f"No example query {example_id!r}.")
        try:
            query = canned.fill(release, chosen.query, {k: v for k, v in request.args.items()})
        except canned.UnknownValue as exc:
            abort(400, description=str(exc))
    return _query_page(query, release, lambda params: "/query?" + urlencode({"query": query, **params}))


@bp.route("/q/<short_id>/<payload>", methods=["GET"])
@bp.route("/q/<short_id>", methods=["POST"], defaults={"payload": None})
def pinned_page(short_id: str, payload: str | None) -> Response:
    """A result pinned to a release: answered from that release while it is kept."""
    settings = current.settings()
    latest = current.release()
    try:
        query = pinned.decode(payload, settings.max_query_length) if payload is not None else \
            request.form.get("query", "")
    except pinned.BadLink as exc:
        abort(400, description=str(exc))
    if not query.strip():
        abort(400, description="The link holds no query.")
    release = pinned.find_release(settings.data_dir, short_id)
    here = request.path

    def link(params: dict[str, object]) -> str:
        return here + ("?" + urlencode(params) if params else "")

    if release is None:
        # Pruned (or never here): the query is kept in the editor, with the way to today's answer.
        return _query_page(query, latest, link, pin={"id": short_id, "gone": True}, run=False, status=410)
    newer = release.id != latest.id
    pin = {"id": release.id, "gone": False, "newer": latest.id if newer else None,
           "current": "/query?" + urlencode({"query": query})}
    return _query_page(query, release, link, pin=pin, lane=service.Lane.PINNED if newer else service.Lane.SPARQL)


def _query_page(query: str, release: Release, here: Callable[[dict[str, object]], str], *,
                pin: dict[str, object] | None = None, run: bool = True, status: int = 200,
                lane: service.Lane = service.Lane.SPARQL) -> Response:
    """The query page for ``query`` answered on ``release``; ``here(params)`` is this page's own
    link with more parameters (sorting, paging, view), ``pin`` what a pinned link says."""
    examples = load_examples(release.base)
    asked = _Asked.read()
    result: ResultTable | None = None
    error: QueryError | None = None
    if query.strip() and run:
        # isascii too: "²" is a digit to Python but no number int() reads (it was a 500).
        number = int(asked.page) if asked.page.isascii() and asked.page.isdigit() else 1
        outcome = run_query(query, page_namer(), release, current.settings(), number, sort=asked.sort,
                            descending=asked.descending, view=asked.view or None, lane=lane)
        if isinstance(outcome, ResultTable):
            result, asked = outcome, replace(asked, sort=outcome.sort)
        else:
            error = outcome
    elif not query.strip() and examples:
        query = examples[0].query

    made_from = canned.unfilled(query)
    current_example = next((ex for ex in examples if ex.query == made_from), None)
    return render(
        "query.html",
        status=status,
        query=query,
        examples=examples,
        current_example=current_example,
        canned_form=canned.form_for(release, query) if current_example and pin is None else [],
        prefixes=formats.prefixes(release.base),
        pin=pin,
        views=VIEWS,
        # The editor bundle is built by endpoint/web/editor/build.sh where Node is present; without
        # it the page keeps its plain text box.
        editor_bundle=editor_bundle_built(),
        asked_view=asked.view,
        sparql_path="/sparql",
        base=release.base,
        page_size=PAGE_SIZE,
        explanations=[{"pattern": p, "ja": ja, "en": en} for p, ja, en in EXPLANATIONS],
        result=result,
        error=error,
        **_links(query, release, here, asked, pin),
    )


@dataclass(frozen=True)
class _Asked:
    """What the reader asked of the result by the page's own links, which work without the script."""

    sort: str | None
    descending: bool
    view: str  # the control's choice; empty means the query's own #view: line decides
    page: str  # as given; read as a number only when the query runs

    @classmethod
    def read(cls) -> _Asked:
        view = request.args.get("view", "")
        return cls(sort=request.args.get("sort") or None, descending=request.args.get("order", "asc").lower() == "desc",
                   view=view if view in VIEWS else "", page=request.args.get("page", "1"))


def _links(query: str, release: Release, here: Callable[[dict[str, object]], str], asked: _Asked,
           pin: dict[str, object] | None) -> dict[str, object]:
    """The page's links: to itself sorted, paged or shared, to the chart and to the downloads."""
    viewing: dict[str, object] = {"view": asked.view} if asked.view else {}

    def download(fmt: str) -> str:
        return "/sparql?" + urlencode({"query": query, "format": fmt})

    def page_href(number: int) -> str:
        sorting = {"sort": asked.sort, "order": "desc" if asked.descending else "asc"} if asked.sort else {}
        return here({**viewing, **sorting, "page": number})

    def sort_href(variable: str) -> str:
        # A second click on the sorted column turns the order round, as the script's buttons do.
        order = "desc" if variable == asked.sort and not asked.descending else "asc"
        return here({**viewing, "sort": variable, "order": order})

    share = pinned.link(release.id, query) if query.strip() else None
    return {
        "permalink": "/query?" + urlencode({"query": query, **viewing}),
        # Every result names its release; the share link pins it (None: too long for a link).
        "answered_on": release.id,
        "share_link": (share + ("?" + urlencode(viewing) if viewing else "")) if share else None,
        "share_post": f"/q/{release.id[:pinned.ID_CHARS]}",
        "chart_svg": "/query/chart.svg?" + urlencode({"query": query, **viewing,
                                                      **({"release": release.id} if pin else {})}),
        "downloads": {
            "table": [("CSV", download("csv")), ("CSV (Excel, BOM)", "/query/download?" + urlencode(
                {"query": query, "format": "csv-bom"})), ("TSV", download("tsv")), ("JSON", download("json"))],
            "graph": [("Turtle", download("ttl")), ("N-Triples", download("nt")), ("JSON-LD", download("jsonld"))],
        },
        "page_href": page_href,
        "sort_href": sort_href,
    }


def editor_bundle_built() -> bool:
    static = current_app.static_folder
    return static is not None and (Path(static) / "editor.js").is_file()


@bp.get("/query/download")
def query_download() -> Response:
    """CSV with a byte-order mark, so Excel opens the Japanese text as UTF-8 (works without JavaScript)."""
    query = request.args.get("query", "")
    if request.args.get("format") != "csv-bom" or not query.strip():
        abort(400, description="query= and format=csv-bom are required.")
    body = csv_with_bom(query, current.release(), current.settings())
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="kusei-query.csv"'
    return response


@bp.get("/query/chart.svg")
def query_chart() -> Response:
    """The result's chart as an SVG file: the same drawing the page shows (view= or the query's #view:)."""
    query = request.args.get("query", "")
    if not query.strip():
        abort(400, description="query= is required.")
    view = request.args.get("view") or None
    release, lane = current.release(), service.Lane.SPARQL
    pinned_id = request.args.get("release")
    if pinned_id and pinned_id != release.id:  # the chart of a pinned page, from its release
        found = pinned.find_release(current.settings().data_dir, pinned_id)
        if found is None:
            abort(410, description=f"Release {pinned_id} is no longer kept.")
        release, lane = found, service.Lane.PINNED
    outcome = run_query(query, page_namer(), release, current.settings(), view=view, lane=lane)
    if isinstance(outcome, QueryError):
        abort(outcome.status, description=outcome.message)
    if outcome.chart is None:
        abort(422, description=outcome.chart_problem or "Ask for a chart: view=bar, stacked or line, "
              "or a #view: line in the query.")
    body = render_template("_result_chart.svg", c=outcome.chart, release_id=release.id)
    response = Response(body, content_type="image/svg+xml; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="kusei-{outcome.chart.view}.svg"'
    return response


@bp.get("/query/complete")
def query_complete() -> Response:
    """Completions for the editor: ``prefix=`` the text typed, ``kind=`` prefix, class, property,
    term (either) or resource (by label). From the release's completion index, no store query."""
    kind = request.args.get("kind", "term")
    if kind not in completion.KINDS:
        abort(400, description=f"kind= is one of {', '.join(completion.KINDS)}.")
    release = current.release()
    index = completion.load(release, formats.prefixes(release.base))
    items = completion.complete(index, request.args.get("prefix", "")[:200], kind)
    response = json_response({"release": release.id, "kind": kind, "items": items})
    # The answer only changes with the release; a short life keeps the editor from asking again.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.post("/query/share")
def query_share() -> Response:
    """The pinned link of the posted query on the current release (the script asks after a run)."""
    query = request.form.get("query", "")
    if not query.strip():
        abort(400, description="query is required.")
    release = current.release()
    href = pinned.link(release.id, query)
    return json_response({"release": release.id, "link": href,
                          "reason": None if href else f"The link would be longer than {pinned.MAX_LINK} characters."})
