"""The answer to one query: the request frame, its evaluation and serialisation in a query
process, and the reply read back in the pool.

A query process serialises the answer itself straight to the bytes of the requested format
(SELECT/ASK: SPARQL results JSON, XML, CSV or TSV; CONSTRUCT/DESCRIBE: N-Triples), counting rows
as it writes: a result over ``max_rows`` or ``max_bytes`` stops the serialisation early and is
reported as :class:`ResultTooLarge`, never truncated. :func:`answer` is callable in-process too
(bench/inprocess_app.py compares against it).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from kusei import formats
from kusei.endpoint.query.describe import INCOMING_LIMIT, description_query, order_lines
from kusei.endpoint.query.errors import (
    RESULT_TOO_LARGE_HINT,
    NotAcceptable,
    QueryFailed,
    QuerySyntaxError,
    ReleaseChanged,
    ResultTooLarge,
    StoreFailure,
    explain_syntax,
)
from kusei.endpoint.query.guard import has_dataset_clause


@dataclass(frozen=True)
class ExecResult:
    kind: str  # "solutions" | "boolean" | "graph"
    body: bytes  # the serialised answer, ready to send
    media_type: str  # of ``body``, without parameters
    rows: int | None  # solutions (SELECT) or triples (CONSTRUCT/DESCRIBE); None for ASK
    elapsed: float  # seconds from sending the query to having the whole answer


@dataclass(frozen=True)
class Describe:
    """Answer with the bounded description (``describe.py``) instead of the engine's own DESCRIBE:
    of ``iris``, or, if None, of every IRI the request's DESCRIBE query has triples about (what that
    query says about blank nodes past the description's two levels then follows it)."""

    base: str  # the release's base: resources minted under it get their incoming links too
    iris: tuple[str, ...] | None = None
    incoming_limit: int = INCOMING_LIMIT


# -- in the pool ----------------------------------------------------------------------------------


def make_request(query: str, *, default_graph_uris: list[str] | None, named_graph_uris: list[str] | None,
                 result_format: str, union_default_graph: bool, max_rows: int, max_bytes: int,
                 describe: Describe | None = None) -> dict[str, Any]:
    """The frame a query process answers (see :meth:`QueryExecutor.run` for the dataset rules).

    ``result_format`` is the short name of a results format of ``kusei.formats``: the frame
    carries names, the query process looks the format up again."""
    try:
        formats.by_name(result_format, "results")
    except KeyError:
        offered = tuple(fmt.name for fmt in formats.RESULT_FORMATS)
        raise ValueError(f"unknown result format {result_format!r}; expected one of {offered}") from None
    request: dict[str, Any] = {"query": query, "format": result_format, "max_rows": max_rows,
                               "max_bytes": max_bytes}
    if describe is not None:
        request["describe"] = {"base": describe.base, "incoming_limit": describe.incoming_limit,
                               "iris": None if describe.iris is None else list(describe.iris),
                               "union": union_default_graph}
    if default_graph_uris or named_graph_uris:
        request["default_graph"] = list(default_graph_uris or [])
        request["named_graphs"] = list(named_graph_uris or [])
    else:
        # The default graph is the union of the named graphs, unless the query's own FROM
        # clauses say otherwise (pyoxigraph's union option would silently override them).
        request["union"] = union_default_graph and not has_dataset_clause(query)
    return request


def read_reply(header: dict, body: bytes, elapsed: float) -> ExecResult:
    """A query process's reply as an :class:`ExecResult`, or the error it reports raised."""
    status = header.get("status")
    message = str(header.get("message", ""))
    if status == "ok":
        kind = header["kind"]
        media_type = formats.by_name("nt" if kind == "graph" else header["format"]).media_type
        return ExecResult(kind=kind, body=body, media_type=media_type, rows=header.get("rows"),
                          elapsed=elapsed)
    if status == "syntax":
        raise QuerySyntaxError(message)
    if status == "too_large":
        raise ResultTooLarge(message)
    if status == "store":
        raise StoreFailure(message)
    if status == "unwritable":
        raise NotAcceptable(message)
    if status == "release_gone":
        raise ReleaseChanged("The release this query was asked of is no longer on disk (newer ones were "
                             "published since); retry to get an answer from the current one.")
    raise QueryFailed(message or "The query failed.")


# -- in the query process -------------------------------------------------------------------------



# A row of JSON results opens with `{` right after `[` or `,` (binding values and the head's
# objects open after `:`), followed by its first key's quote, or by `}` if it binds nothing. A quote
# after `{` is never escaped, so it is a delimiter: if it closes a string that ended in `,{`, a `,`
# `}` `:` or `]` follows, never the first letter of a key. So the first branch matches row openings
# only; `{}` can stand inside a string too, and is checked against the quotes before it. The literal
# `{` first lets the regex engine skip ahead to candidates.
_JSON_ROW = re.compile(rb'\{(?<=[\[,]\{)(?:"(?![,}:\]])|\})')
# What a match needs beyond its first byte, so a match is decided only once those bytes arrived.
_JSON_ROW_REACH = 2


class _Overflow(Exception):
    """Raised from inside a pyoxigraph serialiser to stop it when a limit is passed."""


class _OverBudget(_Overflow):
    """Raised from the sink when an in-process evaluation passes its time budget (``deadline``)."""


class _Sink:
    """A write target for pyoxigraph serialisers that keeps the bytes and enforces the limits.

    pyoxigraph hands it 8 KiB chunks; rows are counted per chunk by ``counter``, so a too-large
    result stops within one chunk of the limit instead of being built in full.
    """

    def __init__(self, max_bytes: int, counter: _RowCounter | None = None, max_rows: int = 0,
                 deadline: float | None = None) -> None:
        self.deadline = deadline
        self.chunks: list[bytes] = []
        self.size = 0
        self.max_bytes = max_bytes
        self.counter = counter
        self.max_rows = max_rows

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise _Overflow(f"The result is larger than {self.max_bytes} bytes")
        if self.counter is not None and self.counter.feed(data) > self.max_rows:
            raise _Overflow(f"The result has more than {self.max_rows} rows")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OverBudget("over its time budget")
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


class _RowCounter:
    """Counts rows in a stream of serialised results, chunk by chunk, without parsing.

    Each format has a marker that occurs once per row and never inside a value:
    TSV and N-Triples escape line breaks, so a row is a line (TSV has a header line);
    XML escapes ``<``, so a row is ``<result>``; CSV quotes values with line breaks (doubling
    inner quotes), so a row is a line feed outside quotes (after the header). In JSON (pyoxigraph
    writes it compact) a row opening is told from its look-alikes inside strings by the bytes
    around it (``_JSON_ROW``), with no need to cut strings out: one regex scan per chunk. Only a row
    that binds nothing (``{}``, which a string can hold too) needs to know whether it stands in a
    string; the parity of the quotes before it says so, once escaped backslashes and quotes are cut
    out. The last bytes of a chunk wait for the next one, so a row split across chunks counts once.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.count = -1 if fmt in ("tsv", "csv") else 0  # minus the header line
        self._tail = b""
        self._quoted = False  # csv: inside quotes; json: inside a string where ``_tail`` starts
        self._escape_pending = False

    def feed(self, data: bytes) -> int:
        if self.fmt == "json":
            self._feed_json(data)
        elif self.fmt in ("tsv", "nt"):
            self.count += data.count(b"\n")
        elif self.fmt == "xml":
            window = self._tail + data
            self.count += window.count(b"<result>")
            self._tail = window[-7:]  # shorter than the marker: never counted twice
        else:  # csv
            pieces = bytes(data).split(b'"')
            for index, piece in enumerate(pieces):
                if index:
                    self._quoted = not self._quoted
                if not self._quoted:
                    self.count += piece.count(b"\n")
        return self.count

    def _feed_json(self, data: bytes) -> None:
        if self._escape_pending and data:  # the previous chunk ended inside a string with a lone backslash
            data = data[1:]
            self._escape_pending = False
        if b"\\" in data:
            # Outside strings JSON has no backslashes, so this only unescapes inside strings; what
            # is left of quotes are the strings' delimiters.
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
            if data.endswith(b"\\"):  # it escapes the next chunk's first byte
                data = data[:-1]
                self._escape_pending = True
        window = self._tail + data
        # Matches starting before ``decided`` have all the bytes they look at; the others are
        # matched again in the next window, whose tail keeps the byte they look back at.
        decided = max(len(window) - _JSON_ROW_REACH, 0)
        found = _JSON_ROW.findall(window)
        rows = len(found) - len(_JSON_ROW.findall(window, decided))
        if b"{}" in found:
            rows -= self._empty_rows_in_strings(window, decided)
        self.count += rows
        keep = max(decided - 1, 0)
        if window.count(b'"', 0, keep) % 2:
            self._quoted = not self._quoted
        self._tail = window[keep:]

    def _empty_rows_in_strings(self, window: bytes, decided: int) -> int:
        """How many ``{}`` matches starting before ``decided`` stand inside a string (no rows)."""
        inside, quoted, counted_to = 0, self._quoted, 0
        for match in _JSON_ROW.finditer(window):
            start = match.start()
            if start >= decided:
                break
            if match.group() != b"{}":
                continue
            if window.count(b'"', counted_to, start) % 2:
                quoted = not quoted
            counted_to = start
            inside += quoted
        return inside


_RDF = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# How each format writes a literal typed rdf:langString or rdf:dirLangString. The engine can make
# one without a language (`"x"^^rdf:langString`, STRDT), which is no valid RDF term: N-Triples and
# TSV would carry it on unreadably (and every other format fails to write it), so such an answer
# is refused. CSV writes only the lexical form, which is valid. A tagged literal is written with
# `@tag`, never with these datatypes, so the markers only match untagged ones.
_UNTAGGED_MARKERS = {
    "nt": tuple(b'"^^<' + _RDF + name + b">" for name in (b"langString", b"dirLangString")),
    "tsv": tuple(b'"^^<' + _RDF + name + b">" for name in (b"langString", b"dirLangString")),
    "json": tuple(b'"datatype":"' + _RDF + name + b'"' for name in (b"langString", b"dirLangString")),
    "xml": tuple(b'datatype="' + _RDF + name + b'"' for name in (b"langString", b"dirLangString")),
}
UNTAGGED_MESSAGE = ("The answer holds a literal typed rdf:langString or rdf:dirLangString without a "
                    "language tag, which is not a valid RDF term and cannot be written in any RDF format; "
                    "give it a language (STRLANG) or another datatype.")


def _has_untagged_lang_literal(body: bytes, fmt: str) -> bool:
    if b"angString" not in body:  # one pass over the body for both names, langString and dirLangString
        return False
    return any(marker in body for marker in _UNTAGGED_MARKERS.get(fmt, ()))


def answer(ox: Any, store: Any, request: dict, options: dict, *, deadline: float | None = None) -> tuple[dict, bytes]:
    """Evaluate one request frame on ``store``: what a query process does, callable in-process too.

    ``deadline`` (``time.monotonic()``), for an evaluation in the web worker: past it, the answer
    is abandoned at the next chunk written and reported as ``{"status": "over_budget"}``.
    """
    fmt = request["format"]
    max_rows = int(request["max_rows"])
    max_bytes = int(request["max_bytes"])
    kwargs = dict(options)
    if "default_graph" in request:
        kwargs["default_graph"] = [ox.NamedNode(iri) for iri in request["default_graph"]]
        kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in request["named_graphs"]]
    elif request.get("union", True):
        kwargs["use_default_graph_as_union"] = True
    try:
        results_format = formats.by_name(fmt, "results").results_format
        if "describe" in request:
            return _describe(ox, store, request, kwargs, options, max_rows, max_bytes)
        result = store.query(request["query"], **kwargs)
        if isinstance(result, ox.QueryBoolean):
            body = result.serialize(format=results_format)
            return {"status": "ok", "kind": "boolean", "format": fmt, "rows": None}, body
        if isinstance(result, ox.QuerySolutions):
            sink = _Sink(max_bytes, _RowCounter(fmt), max_rows, deadline)
            result.serialize(sink, format=results_format)
            rows = sink.counter.count if sink.counter else 0
            body = sink.getvalue()
            if _has_untagged_lang_literal(body, fmt):
                return {"status": "error", "message": UNTAGGED_MESSAGE}, b""
            if fmt == "xml" and (character := formats.xml_unwritable(body)):
                return {"status": "unwritable", "message": formats.xml_unwritable_message(
                    character, formats.by_name("xml").media_type)}, b""
            return {"status": "ok", "kind": "solutions", "format": fmt, "rows": rows}, body
        sink = _Sink(max_bytes, _RowCounter("nt"), max_rows, deadline)
        result.serialize(sink, format=ox.RdfFormat.N_TRIPLES)
        count = sink.counter.count if sink.counter else 0
        body = sink.getvalue()
        if _has_untagged_lang_literal(body, "nt"):
            return {"status": "error", "message": UNTAGGED_MESSAGE}, b""
        return {"status": "ok", "kind": "graph", "format": "nt", "rows": count}, body
    except _OverBudget:
        return {"status": "over_budget"}, b""
    except _Overflow as exc:
        return {
            "status": "too_large",
            "message": f"{exc}; {RESULT_TOO_LARGE_HINT}",
        }, b""
    except SyntaxError as exc:
        return {"status": "syntax", "message": explain_syntax(str(exc), request["query"])}, b""
    except Exception as exc:  # noqa: BLE001 - any evaluation error is the query's answer, not a crash
        return {"status": "error", "message": f"{type(exc).__name__}: {exc}"}, b""


def _describe(ox: Any, store: Any, request: dict, kwargs: dict, options: dict, max_rows: int,
              max_bytes: int) -> tuple[dict, bytes]:
    """The bounded description as ordered N-Triples, in one round trip (see :class:`Describe`)."""
    spec = request["describe"]
    iris: list[str] | None = spec["iris"]
    extra: list[bytes] = []
    if iris is None:
        sink = _Sink(max_bytes, _RowCounter("nt"), max_rows)
        store.query(request["query"], **kwargs).serialize(sink, format=ox.RdfFormat.N_TRIPLES)
        picked: dict[str, None] = {}
        for line in sink.getvalue().splitlines():
            subject = line.partition(b" ")[0]
            if subject[:1] == b"<":
                picked[subject[1:-1].decode()] = None
            else:  # a blank node's
                extra.append(line)
        iris = list(picked)
    lines: list[bytes] = []
    if iris:
        query = description_query(iris, base=spec["base"], incoming_limit=spec["incoming_limit"])
        # The description reads the store's default graph, whatever dataset the DESCRIBE named.
        description_kwargs = dict(options)
        if spec["union"]:
            description_kwargs["use_default_graph_as_union"] = True
        sink = _Sink(max_bytes, _RowCounter("nt"), max_rows)
        store.query(query, **description_kwargs).serialize(sink, format=ox.RdfFormat.N_TRIPLES)
        lines = order_lines(sink.getvalue().splitlines(), iris)
    if extra:
        seen = set(lines)
        lines += [line for line in extra if line not in seen]
    if len(lines) > max_rows:
        return {"status": "too_large", "message": f"The result has more than {max_rows} triples; "
                                                  "describe fewer resources, or download the dumps."}, b""
    body = b"\n".join(lines) + b"\n" if lines else b""
    if len(body) > max_bytes:
        return {"status": "too_large", "message": f"The result is larger than {max_bytes} bytes; "
                                                  f"{RESULT_TOO_LARGE_HINT}"}, b""
    if _has_untagged_lang_literal(body, "nt"):
        return {"status": "error", "message": UNTAGGED_MESSAGE}, b""
    return {"status": "ok", "kind": "graph", "format": "nt", "rows": len(lines)}, body
