"""Refuse what the endpoint must never execute, before the query engine sees it.

pyoxigraph executes ``SERVICE`` by making HTTP requests to whatever address the query names, so a
federated query would let anyone make this server connect to hosts of their choosing (including
ones inside our network). The store API has no switch to turn that off, hence this guard.

It tokenises the query with the SPARQL 1.1 terminals (strings incl. long ones, IRIs, comments,
variables, prefixed names, numbers) and looks for the keyword only where code is. Oxigraph's
PEG parser is laxer than the grammar about where a keyword may start, which the guard must
cover (each case below was observed to reach the network through pyoxigraph 0.5):

* a keyword glued to a number or a boolean: ``?s ?p 1SERVICE :x {…}``, ``trueSERVICE``;
* a prefix named like the keyword: ``?o service:x {…}`` and ``?o .service:x{…}`` call ``:x``;
* ``<`` read as "less than" where the guard reads an IRI, with ``#`` inside the would-be IRI
  starting a comment for the parser: ``FILTER(1<2)SERVICE:x#>`` + newline + ``{…}``.

So the guard errs towards refusing: any bare word containing ``service``, any prefix name
containing it, a would-be IRI with ``)``, ``service`` and ``#`` in that order, and the same
checks again on the text with ``\\u``/``\\U`` escapes decoded (the SPARQL spec decodes them
before parsing; oxigraph does not, but a future version might). Literals, IRIs, prefixed local
names (``ex:service``) and variables (``?service``) containing the word are accepted.

The tokens, and what this guard looks for in them, come from the one reading of the query in
``analysis.py``; this module decides and words the refusals.

Updates (``LOAD`` …) are refused with their own message: the endpoint is read-only and
``Store.query`` would reject them anyway, only less clearly.
"""

from __future__ import annotations

from kusei.endpoint.query.analysis import OPENING, Analysis, analyse
from kusei.endpoint.query.errors import (
    FederationRefused,
    QueryRefused,
    QueryTooComplex,
    QueryTooLong,
    UpdateRefused,
)

__all__ = ["QueryRefused", "check", "check_query", "has_dataset_clause"]

FEDERATION_MESSAGE = (
    "Federated queries are disabled on this endpoint: SERVICE is not allowed (found {where}). "
    "The endpoint answers from its own data only; query the remote endpoint separately."
)
UPDATE_MESSAGE = (
    "This endpoint is read-only: SPARQL Update ({word}, found {where}) is not accepted. "
    "The data are published as dumps you can load into a store of your own."
)
TOO_LONG_MESSAGE = "The query is {length} characters long; this endpoint accepts at most {limit}."

# pyoxigraph's parser recurses per bracket: a few thousand nested brackets overflow its stack
# and kill the process. Real queries nest a handful of levels.
MAX_NESTING = 256

# pyoxigraph's parser and evaluator also recurse once per item of a flat construct: an RDF
# collection, a chain of `+`, `*`, `||`, `,`, `;`, `UNION`, `MINUS {}` or `!`, a run of
# FILTERs or triple patterns. Measured with pyoxigraph 0.5.13 on an 8 MiB stack (SIGSEGV at):
# collection 4,125 items, MINUS 2,625, UNION/OPTIONAL 6,625, `+`/`*` 7,000 terms, `,`/`;` 8,250,
# `||` and `!` 9,375. The query workers run on a 256 MiB stack (executor.child.QUERY_STACK_BYTES),
# where the collection, the lowest again, crashes at ~132,000 items. The guard counts tokens the
# way those crashes grow (each token of a group, plus those of every group around it, so a chain
# split over nested groups counts whole: ``Analysis.chain``) and refuses past MAX_CHAIN: half the
# lowest threshold on the small stack. VALUES data blocks are not counted: they are read in a loop
# (no crash at 64,000 values) and long ones are a normal use.
MAX_CHAIN = 2000
CHAIN_MESSAGE = ("The query has a list or operator chain of {length} terms ({where}); this endpoint accepts "
                 "at most {limit} in one group and the groups around it. Split it into several queries, "
                 "or pass long lists of values in a VALUES block.")


def has_dataset_clause(text: str) -> bool:
    """Whether the query has FROM or FROM NAMED (the keyword, not the word in a string or IRI).

    pyoxigraph's ``use_default_graph_as_union=True`` silently replaces the dataset a query's FROM
    clauses describe (FROM NAMED still holds), so the runner must only ask for the union default
    graph when the query names no dataset of its own.
    """
    return analyse(text).dataset_clause


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def check(text: str, analysis: Analysis, *, max_length: int | None = None) -> None:
    """Raise :class:`QueryRefused` if ``text`` (read as ``analysis``) must not reach the engine.

    ``max_length`` (characters) is the ``max_query_length`` setting; None means no limit.
    """
    if max_length is not None and len(text) > max_length:
        raise QueryTooLong(TOO_LONG_MESSAGE.format(length=len(text), limit=max_length))
    if sum(text.count(c) for c in OPENING) > MAX_NESTING:  # else no nesting can be deeper
        deepest, offset = analysis.nesting
        if deepest > MAX_NESTING:
            raise QueryTooComplex(f"The query nests brackets {deepest} levels deep ({_where(text, offset)}); "
                                  f"this endpoint accepts at most {MAX_NESTING}.")
    if len(text) > MAX_CHAIN:  # every token is at least one character
        longest, offset = analysis.chain
        if longest > MAX_CHAIN:
            raise QueryTooComplex(CHAIN_MESSAGE.format(length=longest, where=_where(text, offset), limit=MAX_CHAIN))
    finding = analysis.finding
    if finding is None:
        return
    where = _where(finding.text, finding.offset)
    if finding.kind == "update":
        raise UpdateRefused(UPDATE_MESSAGE.format(word=finding.word, where=where))
    raise FederationRefused(FEDERATION_MESSAGE.format(where=where))


def check_query(text: str, *, max_length: int | None = None) -> None:
    """:func:`check` of ``text``, analysed here."""
    check(text, analyse(text), max_length=max_length)
