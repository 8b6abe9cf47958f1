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

# The prologue: BASE <iri> and PREFIX p: <iri> items, whitespace and comments, matched at once (the
# items' grammar is this small); the query form keyword follows it.
_PROLOGUE = re.compile(
    r"""(?:\s+|\#[^\n]*|(?i:BASE)\s*<[^<>"{}|^`\\\s]*>|(?i:PREFIX)\s*[^\s:<]*:\s*<[^<>"{}|^`\\\s]*>)*+"""
)
_KEYWORD = re.compile(r"[A-Za-z]+")


def query_form(query: str) -> str | None:
    """The first keyword after the prologue, upper-cased (``SELECT`` … or an update keyword)."""
    prologue = _PROLOGUE.match(query)  # always a match, if only of the empty prologue
    keyword = _KEYWORD.match(query, prologue.end() if prologue else 0)
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


def _judge(kind: str, value: str) -> tuple[str, str] | None:
    """What the guard finds in one token: ("service" or "update", the word shown), or None."""
    if kind == "word":
        if _SERVICE.search(value):
            return "service", value
        if value.lower() in UPDATE_WORDS:
            return "update", value.upper()
    elif kind == "pname":
        if _SERVICE.search(value.partition(":")[0]):
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
        kind = match.lastgroup or ""
        found = _judge(kind, match.group(kind))
        if found is not None:
            return Finding(found[0], found[1], match.start(kind), text)
    return None


def _decode_escapes(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        # Invalid code points become a character that is code in no token, so the scan goes on.
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CODEPOINT_ESCAPE.sub(one, text)


# --- the analysis --------------------------------------------------------------------------------

Token = tuple[str, str, int]  # kind (the token group's name), text, offset in the query


@dataclass(frozen=True)
class Analysis:
    """What one query text is, read once (see the module docstring).

    The form is read from the prologue at once; the rest from one tokenisation of the text, made
    the first time something needs it and then kept (a query that mentions no guard keyword, names
    no dataset and cannot be answered in the web worker is never tokenised, as before)."""

    text: str
    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE, an update keyword, or None

    @property
    def length(self) -> int:
        return len(self.text)

    @functools.cached_property
    def tokens(self) -> list[Token]:
        # finditer reads the same tokens as tokens() (`other` matches any character, so nothing
        # is skipped), with the loop in C.
        found: list[Token] = []
        add = found.append
        for match in _TOKEN.finditer(self.text):
            kind = match.lastgroup or ""
            add((kind, match[kind], match.start(kind)))
        return found

    @functools.cached_property
    def dataset_clause(self) -> bool:
        """FROM or FROM NAMED: the keyword, not the word in a string or IRI."""
        if "from" not in self.text.lower():
            return False
        return any(kind == "word" and value.lower() == "from" for kind, value, _ in self.tokens)

    @functools.cached_property
    def nesting(self) -> tuple[int, int]:
        """The deepest bracket nesting outside strings, IRIs and comments, and its offset."""
        depth = deepest = where = 0
        for kind, value, start in self.tokens:
            if kind != "other":
                continue
            if value in OPENING:
                depth += 1
                if depth > deepest:
                    deepest, where = depth, start
            elif value in CLOSING:
                depth = max(0, depth - 1)
        return deepest, where

    @functools.cached_property
    def chain(self) -> tuple[int, int]:
        """The longest run of tokens along one path of nested groups (guard.MAX_CHAIN), and where:
        each token of a group counts, plus those of every group around it, so a chain split over
        nested groups counts whole; VALUES data blocks are not counted."""
        counts = [0]  # tokens per open group, outermost first
        exempt = [False]  # whether the group is (inside) a VALUES data block
        total = longest = where = 0
        values_next = False
        for kind, value, start in self.tokens:
            if kind == "comment":
                continue
            if kind == "word" and value.lower() == "values":
                values_next = True
            if kind == "other" and value in CLOSING:
                if len(counts) > 1:
                    total -= counts.pop()
                    exempt.pop()
                continue
            if not exempt[-1]:
                counts[-1] += 1
                total += 1
                if total > longest:
                    longest, where = total, start
            if kind == "other" and value in OPENING:
                block = exempt[-1] or (values_next and value == "{")
                if value == "{":
                    values_next = False
                counts.append(0)
                exempt.append(block)
        return longest, where

    @functools.cached_property
    def finding(self) -> Finding | None:
        """SERVICE or an update keyword where code is (in the text, or once its escapes are decoded)."""
        lower = self._code_lower
        maybe = "\\" in self.text or "service" in lower or (
            any(word in lower for word in UPDATE_WORDS) and _NEEDLES.search(lower) is not None)
        if not maybe:
            return None
        for kind, value, start in self.tokens:
            found = _judge(kind, value)
            if found is not None:
                return Finding(found[0], found[1], start, self.text)
        decoded = _decode_escapes(self.text)
        return _scan(decoded) if decoded != self.text else None

    @functools.cached_property
    def may_be_bounded(self) -> bool:
        """False when the text surely is not bounded by its form (a keyword the admitted subset has
        none of stands in its code), so the tokens and rules need not be read to say so; True when
        only the rules can tell (:attr:`bounded`).

        A screen, cheaper than the rules: it may say True of a text the rules refuse, and False of
        one they would admit only when such a word stands where no keyword can (in a string): that
        query then goes to a query process, as any the rules refuse."""
        return _NOT_BOUNDED_WORD.search(self._code_lower) is None

    @functools.cached_property
    def _code_lower(self) -> str:
        """The text lower-cased, without its comment lines when it has no long string. Without long
        strings, no token but a comment starts a line with `#` (IRIs and short strings end on their
        line), so a keyword in such a line is none. The published examples describe themselves in
        them ("... with ...", "add"): the guard's pre-check and the cost screen read this."""
        code = self.text
        if "'''" not in code and '"""' not in code:
            code = _strip_comment_lines(code)
        return code.lower()

    @functools.cached_property
    def _cost(self) -> tuple[str | None, str | None]:
        return bounded.judge(self.text, self.form, self, refused=self.finding is not None)

    @property
    def unbounded(self) -> str | None:
        """Why the query's cost is not bounded by its form (bounded.py's rules), or None if it is."""
        return self._cost[0]

    @property
    def nonlinear(self) -> str | None:
        """Why its cost may grow faster than the data, or None if it is linear in it."""
        return self._cost[1]

    @property
    def bounded(self) -> bool:
        return self.unbounded is None

    @property
    def linear(self) -> bool:
        return self.nonlinear is None


# A line whose first character but blanks is `#`, to its end (a comment also ends at a carriage
# return). Searched from the line break before it, which the regex engine finds fast.
_COMMENT_LINE_AFTER_BREAK = re.compile(r"\n[ \t]*#[^\r\n]*")
_COMMENT_FIRST_LINE = re.compile(r"[ \t]*#[^\r\n]*")


def _strip_comment_lines(text: str) -> str:
    """``text`` without its comment lines (each line break kept)."""
    text = _COMMENT_LINE_AFTER_BREAK.sub("\n", text)
    first = _COMMENT_FIRST_LINE.match(text)
    return text[first.end():] if first else text


# Cheap pre-check: a query mentioning none of these words anywhere has no guard finding. Matched
# against the lower-cased text: a case-insensitive regex is ~6x slower on Japanese text.
_NEEDLES = re.compile(r"service|\b(?:" + "|".join(sorted(UPDATE_WORDS)) + r")\b")

# A word no query bounded by its form holds as a keyword: those its rules refuse at once
# (bounded.NEVER; SELECT may stand once) and those the linear verdict alone admits (OPTIONAL, GRAPH,
# BIND, GROUP BY, the aggregates), standing as a keyword stands: not part of a variable (`?count`),
# a prefixed name (`ex:graph`, `graph:x`), an IRI's path (`<…/optional>`, `<urn:graph>`) or a
# language tag (`@graph`).
_NOT_BOUNDED_WORD = re.compile(
    r"(?<![\w?$:/#.@<-])(?:"
    + "|".join(sorted((bounded.NEVER - {"select"}) | bounded.AGGREGATES | bounded.LINEAR_ONLY_WORDS))
    + r")(?![\w:-])"
)

# Texts up to this long are remembered: the lean path, the view and the pool ask about the same
# text in one request, and clients repeat their queries. 256 entries of at most 8 KiB.
_REMEMBERED_LENGTH = 8192


def analyse(text: str) -> Analysis:
    """The analysis of ``text`` (remembered for short texts)."""
    if len(text) <= _REMEMBERED_LENGTH:
        return _remembered(text)
    return Analysis(text, query_form(text))


@functools.lru_cache(maxsize=256)
def _remembered(text: str) -> Analysis:
    return Analysis(text, query_form(text))
