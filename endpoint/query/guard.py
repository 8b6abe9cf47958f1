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

Updates (``LOAD`` …) are refused with their own message: the endpoint is read-only and
``Store.query`` would reject them anyway, only less clearly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from kusei.endpoint.query.errors import (
    FederationRefused,
    QueryRefused,
    QueryTooComplex,
    QueryTooLong,
    UpdateRefused,
)

__all__ = ["QueryRefused", "check_query", "has_dataset_clause"]

FEDERATION_MESSAGE = (
    "Federated queries are disabled on this endpoint: SERVICE is not allowed (found {where}). "
    "The endpoint answers from its own data only; query the remote endpoint separately."
)
UPDATE_MESSAGE = (
    "This endpoint is read-only: SPARQL Update ({word}, found {where}) is not accepted. "
    "The data are published as dumps you can load into a store of your own."
)
TOO_LONG_MESSAGE = "The query is {length} characters long; this endpoint accepts at most {limit}."

# Words that only occur in SPARQL Update.
_UPDATE_WORDS = frozenset(
    {"load", "clear", "drop", "create", "add", "move", "copy", "insert", "delete", "with", "using"}
)


# --- SPARQL 1.1 terminals (grammar section 19.8) -------------------------------------------------
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"

# One token, after the whitespace before it (folded in: half as many matches to loop over).
# Alternatives are tried in order; the frequent ones come first. Where two can match at the same
# place the order decides: long strings before short ones, a prefixed name before a bare word
# (`ex:` vs `ex`), numbers and blank nodes before words (words may hold digits and `_`).
_TOKEN = re.compile(
    r"[\x20\t\r\n]*(?:"
    + "|".join(
        [
            f"(?P<pname>(?P<prefix>{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            f"(?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)",
            r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)",
            f"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            f"(?P<word>[{_PN_CHARS}]+)",
            r"(?P<comment>#[^\r\n]*)",
            r"(?P<long>'''(?:(?:'|'')?(?:[^'\\]|\\[\s\S]))*'''"
            r"|\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\[\s\S]))*\"\"\")",
            r"(?P<short>'(?:[^'\\\n\r]|\\[^\n\r])*'|\"(?:[^\"\\\n\r]|\\[^\n\r])*\")",
            r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)",
            r"(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",
            # A backslash outside strings and names is a syntax error for the parser; skipping
            # the escaped character keeps `\#` or `\'` from opening a comment or string here.
            r"(?P<escape>\\[\s\S]?)",
            r"(?P<other>[\s\S])",
        ]
    )
    + ")"
)
_SERVICE = re.compile("service", re.IGNORECASE)
# Inside a would-be IRI: a `)` closing the expression that `<` (as "less than") opened, then the
# keyword, then `#` starting a comment that hides the `>` from the parser.
_IRI_AMBIGUITY = re.compile(r"\).*service.*#", re.IGNORECASE | re.DOTALL)
# Cheap pre-check: a query mentioning none of these words anywhere needs no tokenising. Matched
# against the lower-cased text: a case-insensitive regex is ~6x slower on Japanese text.
_NEEDLES = re.compile(r"service|\b(?:" + "|".join(sorted(_UPDATE_WORDS)) + r")\b")
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class _Finding:
    kind: str  # "service" or "update"
    word: str
    offset: int


def _tokens(text: str) -> Iterator[re.Match[str]]:
    pos = 0
    end = len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:  # only whitespace is left: `other` matches any other character
            return
        yield match
        pos = match.end()


def _scan(text: str) -> _Finding | None:
    for match in _tokens(text):
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        pos = match.start(kind)
        if kind == "word":
            if _SERVICE.search(value):
                return _Finding("service", value, pos)
            if value.lower() in _UPDATE_WORDS:
                return _Finding("update", value.upper(), pos)
        elif kind == "pname":
            prefix = match.group("prefix") or ""
            if _SERVICE.search(prefix):
                return _Finding("service", value, pos)
        elif kind == "langtag":
            if _SERVICE.search(value):
                return _Finding("service", value, pos)
        elif kind == "iri":
            if _IRI_AMBIGUITY.search(value):
                return _Finding("service", value, pos)
    return None


def has_dataset_clause(text: str) -> bool:
    """Whether the query has FROM or FROM NAMED (the keyword, not the word in a string or IRI).

    pyoxigraph's ``use_default_graph_as_union=True`` silently replaces the dataset a query's FROM
    clauses describe (FROM NAMED still holds), so the runner must only ask for the union default
    graph when the query names no dataset of its own.
    """
    if "from" not in text.lower():
        return False
    return any(m.lastgroup == "word" and m.group("word").lower() == "from" for m in _tokens(text))


def _decode_escapes(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        # Invalid code points become a character that is code in no token, so the scan goes on.
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CODEPOINT_ESCAPE.sub(one, text)


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


# pyoxigraph's parser recurses per bracket: a few thousand nested brackets overflow its stack
# and kill the process. Real queries nest a handful of levels.
MAX_NESTING = 256
_OPENING, _CLOSING = frozenset("({["), frozenset(")}]")


def _nesting(text: str) -> tuple[int, int]:
    """The deepest bracket nesting outside strings, IRIs and comments, and where it is reached."""
    depth = deepest = where = 0
    for match in _tokens(text):
        if match.lastgroup != "other":
            continue
        char = match.group("other")
        if char in _OPENING:
            depth += 1
            if depth > deepest:
                deepest, where = depth, match.start("other")
        elif char in _CLOSING:
            depth = max(0, depth - 1)
    return deepest, where


# pyoxigraph's parser and evaluator also recurse once per item of a flat construct: an RDF
# collection, a chain of `+`, `*`, `||`, `,`, `;`, `UNION`, `MINUS {}` or `!`, a run of
# FILTERs or triple patterns. Measured with pyoxigraph 0.5.13 on an 8 MiB stack (SIGSEGV at):
# collection 4,125 items, MINUS 2,625, UNION/OPTIONAL 6,625, `+`/`*` 7,000 terms, `,`/`;` 8,250,
# `||` and `!` 9,375. The query workers run on a 256 MiB stack (executor.child.QUERY_STACK_BYTES),
# where the collection, the lowest again, crashes at ~132,000 items. The guard counts tokens the
# way those crashes grow (each token of a group, plus those of every group around it, so a chain
# split over nested groups counts whole) and refuses past MAX_CHAIN: half the lowest threshold
# on the small stack. VALUES data blocks are not counted: they are read in a loop (no crash at
# 64,000 values) and long ones are a normal use.
MAX_CHAIN = 2000
CHAIN_MESSAGE = ("The query has a list or operator chain of {length} terms ({where}); this endpoint accepts "
                 "at most {limit} in one group and the groups around it. Split it into several queries, "
                 "or pass long lists of values in a VALUES block.")


def chain_length(text: str) -> tuple[int, int]:
    """The longest run of tokens along one path of nested groups (see MAX_CHAIN), and where."""
    counts = [0]  # tokens per open group, outermost first
    exempt = [False]  # whether the group is (inside) a VALUES data block
    total = longest = where = 0
    values_next = False
    for match in _tokens(text):
        kind = match.lastgroup
        if kind is None or kind == "comment":
            continue
        value = match.group(kind)
        if kind == "word" and value.lower() == "values":
            values_next = True
        if kind == "other" and value in _CLOSING:
            if len(counts) > 1:
                total -= counts.pop()
                exempt.pop()
            continue
        if not exempt[-1]:
            counts[-1] += 1
            total += 1
            if total > longest:
                longest, where = total, match.start(kind)
        if kind == "other" and value in _OPENING:
            block = exempt[-1] or (values_next and value == "{")
            if value == "{":
                values_next = False
            counts.append(0)
            exempt.append(block)
    return longest, where


def check_query(text: str, *, max_length: int | None = None) -> None:
    """Raise :class:`QueryRefused` if ``text`` must not reach the engine; return if it may.

    ``max_length`` (characters) is the ``max_query_length`` setting; None means no limit.
    """
    if max_length is not None and len(text) > max_length:
        raise QueryTooLong(TOO_LONG_MESSAGE.format(length=len(text), limit=max_length))
    if sum(text.count(c) for c in _OPENING) > MAX_NESTING:
        deepest, offset = _nesting(text)
        if deepest > MAX_NESTING:
            raise QueryTooComplex(f"The query nests brackets {deepest} levels deep ({_where(text, offset)}); "
                                  f"this endpoint accepts at most {MAX_NESTING}.")
    if len(text) > MAX_CHAIN:  # every token is at least one character
        longest, offset = chain_length(text)
        if longest > MAX_CHAIN:
            raise QueryTooComplex(CHAIN_MESSAGE.format(length=longest, where=_where(text, offset), limit=MAX_CHAIN))
    lower = text.lower()
    maybe = "\\" in text or "service" in lower or (
        any(word in lower for word in _UPDATE_WORDS) and _NEEDLES.search(lower) is not None)
    if not maybe:
        return
    finding = _scan(text)
    shown = text
    if finding is None:
        decoded = _decode_escapes(text)
        if decoded != text:
            finding = _scan(decoded)
            shown = decoded
    if finding is None:
        return
    where = _where(shown, finding.offset)
    if finding.kind == "update":
        raise UpdateRefused(UPDATE_MESSAGE.format(word=finding.word, where=where))
    raise FederationRefused(FEDERATION_MESSAGE.format(where=where))
