"""The one family of errors a request can end in: a query, a request for one, a page or a format.

Each error carries what the client is told: the HTTP ``status``, a stable ``code`` (the ``error``
field of a JSON body) and a ``message`` in plain words, plus optional ``details`` (line, column,
offered formats, a limit). It is raised where the problem is found — the guard, the executor, the
protocol reader — with its final status and words; the web layer only renders it, so a refusal
means the same thing whichever path reached it.
"""

from __future__ import annotations

import re
from typing import ClassVar

_POSITION = re.compile(r"error at (\d+):(\d+)")


class KuseiError(Exception):
    """A request that is not answered; rendered as-is by ``kusei.endpoint.web.http``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    vary: ClassVar[str | None] = None  # the request header the answer depends on, if any

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = {key: value for key, value in details.items() if value is not None}
        # What an error page shows beyond the details (they go to every form of the error).
        self.page: dict[str, object] = {}


# -- the client's request --------------------------------------------------------------------------


class BadRequest(KuseiError):
    """A protocol error: missing or duplicated query, bad parameter, undecodable body."""


class UnsupportedMediaType(KuseiError):
    status = 415
    code = "unsupported-media-type"


class NotAcceptable(KuseiError):
    status = 406
    code = "not-acceptable"
    vary = "Accept"


class RequestTooLarge(KuseiError):
    status = 413
    code = "request-too-large"


class UnknownIRI(KuseiError):
    """A Linked-Data IRI under the base that the data says nothing about."""

    status = 404
    code = "unknown-iri"
    vary = "Accept"

    def __init__(self, iri: str) -> None:
        super().__init__(f"The data says nothing about <{iri}>.")
        self.page = {"iri": iri}


# A prefixed name ending where the parser stopped: pyoxigraph says "Prefix not found" without the
# prefix, and points past the name.
_PREFIXED_NAME = re.compile(r"([A-Za-z][\w.-]*)?:[\w.%:-]*$")


def explain_syntax(message: str, query: str) -> str:
    """The parser's message, led by the undeclared prefix it means when it says "Prefix not found"."""
    position = _POSITION.search(message)
    if "Prefix not found" not in message or not position:
        return message
    line_no, column = int(position.group(1)), int(position.group(2))
    lines = query.splitlines()
    if not 0 < line_no <= len(lines):
        return message
    found = _PREFIXED_NAME.search(lines[line_no - 1][:max(column - 1, 0)])
    if not found:
        return message
    prefix = found.group(1) or ""
    return (f"prefix {prefix}: is not declared; add PREFIX {prefix}: <…> or use a pre-declared prefix. "
            f"接頭辞 {prefix}: は宣言されていません。"
            f"PREFIX {prefix}: <…> を加えるか、宣言済みの接頭辞を使ってください。\n{message}")


class QuerySyntaxError(KuseiError):
    """The parser's own message; line and column are read from it when it names them."""

    code = "query-syntax"

    def __init__(self, message: str) -> None:
        position = _POSITION.search(message)
        line, column = (int(position.group(1)), int(position.group(2))) if position else (None, None)
        super().__init__(message, line=line, column=column)
        self.line = line
        self.column = column


class QueryRefused(KuseiError):
    """The guard's refusals: the query never reaches the engine."""


class FederationRefused(QueryRefused):
    code = "federation-disabled"


class UpdateRefused(QueryRefused):
    status = 403
    code = "update-refused"


class QueryTooComplex(QueryRefused):
    """Constructs that crash the parser (deep nesting) are refused before it sees them."""

    code = "query-too-complex"


class QueryTooLong(QueryRefused):
    status = 413
    code = "query-too-long"


class QueryFailed(KuseiError):
    """The query parsed but its evaluation failed (a type error the engine reports, say)."""

    code = "query-failed"


# -- the answer, or the server's limits ---------------------------------------------------------------


class ResultTooLarge(KuseiError):
    """The query is fine but its answer exceeds a published limit; the client must narrow it."""

    status = 422
    code = "result-too-large"


class QueryTimeout(KuseiError):
    status = 503
    code = "timeout"


class Busy(KuseiError):
    """Every query slot stayed taken for the whole wait; the client may retry shortly."""

    status = 503
    code = "busy"


class TooManyQueries(KuseiError):
    """The client is over its fair share (queries at once, or query time per minute); others are not.
    ``retry_after`` (seconds) is sent as the Retry-After header."""

    status = 429
    code = "too-many-queries"


class WorkerCrashed(KuseiError):
    """The query process died while answering. As such (the OOM killer, an operator's kill) the
    server lost it, not the query's doing: the client may retry. Its subclasses are the deaths
    that are the query's doing, with codes of their own."""

    status = 503
    code = "query-process-lost"


class QueryCrashed(WorkerCrashed):
    """The engine crashed on the query (its process died of a fatal signal such as SIGSEGV): a
    property of the query, answered as a refusal of it rather than as a server failure."""

    status = 422
    code = "query-crashed"


class MemoryLimitExceeded(WorkerCrashed):
    """The watchdog stopped the query when a memory bound was passed; the message names it."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message, limit=limit)
        self.limit = limit


class QueryMemoryExceeded(MemoryLimitExceeded):
    """This query's process passed ``max_query_memory``: the query itself needs too much."""

    status = 422
    code = "query-memory-limit"
    scope = "query"


class ServerMemoryExceeded(MemoryLimitExceeded):
    """The server's processes together passed ``max_server_memory``; the largest query is stopped."""

    status = 503
    code = "server-memory-limit"  # not the query's fault alone: a retry may be answered
    scope = "server"


class ReleaseChanged(KuseiError):
    """A newer release was published while the query waited; answering it from the newer store
    would pair the old release's validators with another release's answer."""

    status = 503
    code = "release-changed"


class NoRelease(KuseiError):
    """No data release is published yet (or none can be opened)."""

    status = 503
    code = "no-release"


class StoreFailure(KuseiError):
    """The server cannot reach its data (no store, a query process that cannot start)."""

    status = 500
    code = "store-failure"


RESULT_TOO_LARGE_HINT = "add LIMIT/OFFSET to fetch it in pages, or download the dumps."
