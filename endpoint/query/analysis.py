"""One reading of a query's text before any engine sees it: its form, its dataset clauses, what the
guard needs (``guard.py``) and whether its cost is bounded by its form (``bounded.py``).

Everything comes from one pass of the SPARQL 1.1 tokeniser below (the terminals of grammar section
19.8) and is kept in a frozen :class:`Analysis`, made once per request (and remembered per text:
the lean path, the view and the query pool ask about the same text). The guard's refusals are
raised by ``guard.check`` from it, with the messages they always had.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from kusei.endpoint.query import bounded

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


def tokens(text: str) -> Iterator[re.Match[str]]:
    """The tokens of ``text`` (each match's ``lastgroup`` is its kind), whitespace left out."""
    pos = 0
    end = len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:  # only whitespace is left: `other` matches any other character
            return
        yield match
        pos = match.end()


# --- the query form ------------------------------------------------------------------------------

# A prologue item (BASE <iri> or PREFIX p: <iri>), whitespace or a comment; what follows is the
# query form keyword. Only the prologue is scanned, and its grammar is this small.
_PROLOGUE = re.compile(
    r"""\s+|\#[^\n]*|(?i:BASE)\s*<[^<>"{}|^`\\\s]*>|(?i:PREFIX)\s*[^\s:<]*:\s*<[^<>"{}|^`\\\s]*>"""
)
_KEYWORD = re.compile(r"[A-Za-z]+")


def query_form(query: str) -> str | None:
    """The first keyword after the prologue, upper-cased (``SELECT`` … or an update keyword)."""
    pos = 0
    while match := _PROLOGUE.match(query, pos):
        if match.end() == pos:
            break
        pos = match.end()
    keyword = _KEYWORD.match(query, pos)
    return keyword.group().upper() if keyword else None


# --- what the guard looks for --------------------------------------------------------------------

# Words that only occur in SPARQL Update.
UPDATE_WORDS = frozenset(
    {"load", "clear", "drop", "create", "add", "move", "copy", "insert", "delete", "with", "using"}
)
_SERVICE = re.compile("service", re.IGNORECASE)
# Inside a would-be IRI: a `)` closing the expression that `<` (as "less than") opened, then the
# keyword, then `#` starting a comment that hides the `>` from the parser.
_IRI_AMBIGUITY = re.compile(r"\).*service.*#", re.IGNORECASE | re.DOTALL)
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
OPENING, CLOSING = frozenset("({["), frozenset(")}]")


@dataclass(frozen=True)
class Finding:
    """Where the guard found SERVICE or an update keyword, in ``text`` (the query, or the query
    with its ``\\u`` escapes decoded when only that shows the keyword)."""

    kind: str  # "service" or "update"
    word: str
    offset: int
    text: str


def _finding(match: re.Match[str]) -> tuple[str, str] | None:
    kind = match.lastgroup
    assert kind is not None
    value = match.group(kind)
    if kind == "word":
        if _SERVICE.search(value):
            return "service", value
        if value.lower() in UPDATE_WORDS:
            return "update", value.upper()
    elif kind == "pname":
        if _SERVICE.search(match.group("prefix") or ""):
            return "service", value
    elif kind == "langtag":
        if _SERVICE.search(value):
            return "service", value
    elif kind == "iri":
        if _IRI_AMBIGUITY.search(value):
            return "service", value
    return None


def _scan(text: str) -> Finding | None:
    for match in tokens(text):
        found = _finding(match)
        if found is not None:
            return Finding(found[0], found[1], match.start(match.lastgroup or 0), text)
    return None


def _decode_escapes(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        # Invalid code points become a character that is code in no token, so the scan goes on.
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CODEPOINT_ESCAPE.sub(one, text)


# --- the analysis --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """What one query text is, read once (see the module docstring)."""

    length: int  # characters
    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE, an update keyword, or None
    dataset_clause: bool  # FROM or FROM NAMED, the keyword (not the word in a string or IRI)
    deepest: int  # bracket nesting outside strings, IRIs and comments …
    deepest_at: int  # … and the offset where it is reached
    chain: int  # the longest run of tokens along one path of nested groups (guard.MAX_CHAIN) …
    chain_at: int  # … and where
    finding: Finding | None  # SERVICE or an update keyword where code is
    # Why the query's cost is not bounded by its form (bounded.py's rules), or None if it is …
    unbounded: str | None
    # … and why it may grow faster than the data (bounded.nonlinear), or None if it is linear in it.
    nonlinear: str | None

    @property
    def bounded(self) -> bool:
        return self.unbounded is None

    @property
    def linear(self) -> bool:
        return self.nonlinear is None


# Texts up to this long are remembered: the lean path, the view and the pool ask about the same
# text in one request, and clients repeat their queries. 256 entries of at most 8 KiB.
_REMEMBERED_LENGTH = 8192


def analyse(text: str, *, max_length: int | None = None) -> Analysis:
    """The analysis of ``text`` (remembered for short texts).

    A text over ``max_length`` (the guard refuses it for its length before anything else) is not
    tokenised: only its length and form are read, and it counts as unbounded.
    """
    if max_length is not None and len(text) > max_length:
        return Analysis(length=len(text), form=query_form(text), dataset_clause=False, deepest=0, deepest_at=0,
                        chain=0, chain_at=0, finding=None, unbounded="longer than the endpoint accepts",
                        nonlinear="longer than the endpoint accepts")
    if len(text) <= _REMEMBERED_LENGTH:
        return _remembered(text)
    return _analyse(text)


@functools.lru_cache(maxsize=256)
def _remembered(text: str) -> Analysis:
    return _analyse(text)


def _analyse(text: str) -> Analysis:
    depth = deepest = deepest_at = 0
    counts = [0]  # tokens per open group, outermost first (chain)
    exempt = [False]  # whether the group is (inside) a VALUES data block
    total = chain = chain_at = 0
    values_next = False
    finding: Finding | None = None
    dataset_clause = False
    kept: list[tuple[str, str]] = []  # (kind, value) of every token but comments, for the cost rules
    for match in tokens(text):
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "comment":
            continue
        if kind != "other" or value not in " \t\r\n":  # whitespace at the very end
            kept.append((kind, value))
        if finding is None and (found := _finding(match)) is not None:
            finding = Finding(found[0], found[1], match.start(kind), text)
        if kind == "word":
            lower = value.lower()
            if lower == "values":
                values_next = True
            elif lower == "from":
                dataset_clause = True
        elif kind == "other":
            if value in OPENING:
                depth += 1
                if depth > deepest:
                    deepest, deepest_at = depth, match.start(kind)
            elif value in CLOSING:
                depth = max(0, depth - 1)
                if len(counts) > 1:
                    total -= counts.pop()
                    exempt.pop()
                continue
        # Chain: each token of a group counts, plus those of every group around it, so a chain
        # split over nested groups counts whole; VALUES data blocks are not counted (guard.py).
        if not exempt[-1]:
            counts[-1] += 1
            total += 1
            if total > chain:
                chain, chain_at = total, match.start(kind)
        if kind == "other" and value in OPENING:
            block = exempt[-1] or (values_next and value == "{")
            if value == "{":
                values_next = False
            counts.append(0)
            exempt.append(block)
    if finding is None and "\\" in text:
        decoded = _decode_escapes(text)
        if decoded != text:
            finding = _scan(decoded)
    form = query_form(text)
    return Analysis(
        length=len(text), form=form, dataset_clause=dataset_clause, deepest=deepest, deepest_at=deepest_at,
        chain=chain, chain_at=chain_at, finding=finding,
        unbounded=bounded.unbounded(text, form, kept, dataset_clause=dataset_clause, refused=finding is not None),
        nonlinear=bounded.nonlinear(text, form, kept, dataset_clause=dataset_clause, refused=finding is not None),
    )
