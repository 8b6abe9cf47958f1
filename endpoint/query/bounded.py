"""Whether a query's cost is bounded by its form: the rules that let ``inline.py`` answer it in the
web worker, without the hop to a killable query process.

pyoxigraph 0.5.13 cannot stop a query once it runs (no timeout, no cancellation reachable from
Python), so a query evaluated in the web worker must be known, before it runs, not to run away.
The rules below read the tokens of ``analysis.py`` and admit a small, plain subset of SPARQL whose
work is bounded by the neighbourhood of the constants it names; everything else keeps the query
process. Each rule says what it excludes and why. A query they admit is still watched while it
runs (``inline.py``: rows, bytes and time per written chunk, then the query process instead).

The bound they give: a query starts from at most one *fan-in* (the subjects that point at one
constant, or at a few VALUES constants) and otherwise only walks *out* of nodes it already has, one
constant predicate at a time, each predicate at most once per node. Its solutions are then at
most (subjects pointing at the anchor) × the product of the out-degrees of the walked properties,
with at most :data:`MAX_PATTERNS` patterns; in Kusei's data a resource has a handful of values per
property (a plan ~10 measures, a project ~50 items at most), so this stays small, and the
inline budget catches the rest. It cannot multiply two unrelated sets, follow a path of unbounded
length, or grow with the square of the data.

Some constructs are admitted for the second verdict only, *linear in the data* (``judge``; inline.py
answers such queries only on small releases): aggregates with GROUP BY, BIND at the end of a group
and one GRAPH group (see :meth:`_Reader.aggregate`, :meth:`_Reader.bind` and :meth:`_Reader.where`).
An aggregate is computed in full before its first row is written, so the inline budget, checked
per written chunk, cannot stop it: the argument for each is on the evaluation alone. pyoxigraph
evaluates bottom-up: the group's solutions first (bounded by the walks, as for any linear query),
then one pass over them (grouping in a hash table, one accumulator step per solution, a sort of
the groups). None of these constructs ever makes a query bounded by its form.
"""

from __future__ import annotations

import re
from typing import Protocol

from kusei.namespaces import RDF, STANDARD_PREFIXES

# Longer texts are not plain lookups, and a short text also bounds what the rules below cannot
# see: the number of constants in FILTER ... IN (…), the length of literals compared per row.
MAX_LENGTH = 2000
# Each triple pattern may multiply the solutions by the out-degree of its property; few patterns,
# few factors. The bench's lookups have 3 to 4.
MAX_PATTERNS = 8
# VALUES rows each start a fan-in of their own: a handful, not a table.
MAX_VALUES = 16

RDF_TYPE = RDF + "type"

# The admitted subset's keywords are those _Reader reads where its grammar expects them (SELECT,
# ASK, CONSTRUCT, WHERE, DISTINCT, REDUCED, VALUES, FILTER, ORDER BY, ASC, DESC, LIMIT, OFFSET, a,
# true, false, PREFIX); any other word (UNION, MINUS, HAVING, EXISTS, SERVICE, FROM, a second
# SELECT …) leaves the query to a query process, at once for those in NEVER. OPTIONAL, GRAPH, BIND,
# GROUP BY and the aggregates are read where the rules allow them (linear verdict only).
# OPTIONAL and UNION could be bounded too, but each adds a way to multiply that the rules would
# have to follow; these queries are rare among lookups.
# Functions admitted in FILTER: each costs a constant per row on a term it is given. Excluded:
# REGEX and REPLACE (a pattern per row, and REPLACE builds strings), CONCAT, STRBEFORE, ENCODE_FOR_URI,
# the hashes, NOW/RAND/UUID, IRI construction, and every aggregate.
_FILTER_WORDS = frozenset({"lang", "langmatches", "str", "isiri", "isuri", "isliteral", "isblank", "isnumeric",
                           "bound", "sameterm", "datatype", "in", "not", "true", "false", "contains",
                           "strstarts", "strends", "strlen", "lcase", "ucase"})
# Functions admitted in BIND: those of FILTER, and the rounding of a number (a constant-size value
# in, one out). None builds a string longer than its argument: no CONCAT, no STRBEFORE/AFTER
# games, no SUBSTR of computed offsets, no REPLACE.
_BIND_WORDS = _FILTER_WORDS | {"round", "abs", "ceil", "floor"}
# The tokeniser reads a minus sign, and a minus sign glued to digits, as a word: arithmetic in BIND.
_MINUS = re.compile(r"-[0-9]*")
# Aggregates admitted in the projection, over one variable (or `*` for COUNT): each costs one
# accumulator step per solution of its group (see :meth:`_Reader.aggregate`).
AGGREGATES = frozenset({"count", "sum", "min", "max", "avg", "sample", "group_concat"})
# In a FILTER, `<` may be read by the parser as "less than"; a would-be IRI there is admitted only
# when it could not hide code (no brackets, spaces, quotes, variables or operators).
_PLAIN_IRI = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9/._~%#:\-]*>")
# An IRI anywhere else must be absolute: without BASE a relative one fails to parse, which the
# query process reports.
_ABSOLUTE_IRI = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*:[^<>]*>")
# After a predicate, any of these is a property path operator (`/`, `|`, `*`, `+`, `?`): a path
# of unbounded length (`*`, `+`) walks the transitive closure, and the others are joins the rules
# do not follow. `^` and `!` before a predicate likewise.
_PATH = frozenset("/|*+?^!")


class Unbounded(Exception):
    """Why a query is left to a query process."""


Term = tuple[str, str]  # ("var", name) | ("iri", iri) | ("literal", text)


# Words no admitted query holds: a query with one of them as a keyword is left to a query process
# without being read further (its reader would refuse it at the word anyway).
NEVER = frozenset({"union", "minus", "having", "service", "exists", "from", "regex", "replace", "concat",
                   "describe", "insert", "delete", "load", "clear", "drop", "create", "select"})
# The words of the constructs the linear verdict alone admits (besides the aggregates): a query with
# one as its keyword is never bounded by its form (analysis.Analysis.may_be_bounded screens for them).
LINEAR_ONLY_WORDS = frozenset({"optional", "graph", "bind", "group"})


class _Tokens(Protocol):
    @property
    def tokens(self) -> list[tuple[str, str, int]]: ...


def judge(text: str, form: str | None, analysis: _Tokens, *, refused: bool) -> tuple[str | None, str | None]:
    """Why the query's cost is not bounded by its form (None when it is), and why it may grow
    faster than the data (None when it is linear in it): see the module docstring and
    :meth:`_Reader.judge`. A query linear in the data has one start that may be every subject of a
    class or of a property, then walks out of known nodes (OPTIONAL groups of walks admitted): it
    costs at most that slice of the data times the out-degrees of its walks; inline.py admits it
    on small releases. The group may be a GRAPH group, and the solutions may be extended by BIND,
    grouped and aggregated (linear verdict only, see the module docstring).

    ``analysis`` gives the query's tokens, as ``analysis.tokens`` reads them: comments cannot hide
    or add a keyword here, and a keyword glued to another token is another token."""
    if refused:
        return ("the guard refuses it",) * 2
    if form not in ("SELECT", "ASK", "CONSTRUCT"):
        # DESCRIBE answers with the bounded description, several queries in a query process.
        return (f"{form or 'no'} form",) * 2
    if len(text) > MAX_LENGTH:
        return (f"longer than {MAX_LENGTH} characters",) * 2
    if "\\" in text:
        # Escapes (\u0020 in a keyword, \t in a string, \: in a name) are read differently by the
        # SPARQL grammar, by pyoxigraph and by this tokeniser; a plain lookup needs none.
        return ("a backslash escape",) * 2
    kept = []
    selects = 0
    for kind, value, _ in analysis.tokens:
        if kind == "comment" or (kind == "other" and value in " \t\r\n"):
            continue
        if kind == "word" and (lower := value.lower()) in NEVER:
            # One SELECT is the form; a second one is a subquery.
            selects += lower == "select"
            if lower != "select" or selects > 1:
                return (lower.upper() if lower != "select" else "a subquery",) * 2
        kept.append((kind, value))
    reader = _Reader(kept)
    try:
        reader.query()
    except Unbounded as exc:
        return (str(exc),) * 2
    except IndexError:
        return ("a query that ends too early",) * 2
    verdicts: list[str | None] = []
    for scans in (False, True):
        try:
            if reader.in_optional and not scans:
                # Its group may be evaluated on its own and joined after (a scan of its property).
                raise Unbounded("OPTIONAL")
            if reader.linear_only and not scans:
                # Aggregates, GROUP BY, BIND and GRAPH are read for the linear verdict only.
                raise Unbounded(reader.linear_only[0])
            reader.judge(scans=scans)
            verdicts.append(None)
        except Unbounded as exc:
            verdicts.append(str(exc))
    return verdicts[0], verdicts[1]


_END = ("end", "")


class _Reader:
    """A reader of the admitted subset; raises :class:`Unbounded` at anything else."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        # Padded with ends, so that looking ahead needs no bounds check (a reader that runs past
        # them raises IndexError, which judge() takes as unbounded).
        self.tokens = tokens + [_END] * 4
        self.pos = 0
        self.prefixes: dict[str, str] = {"kusei": "kusei:", **STANDARD_PREFIXES}
        self.patterns: list[tuple[Term, Term, Term]] = []
        self.values: dict[str, int] = {}
        self.optional = False  # reading an OPTIONAL group
        self.optionals: list[int] = []  # where each OPTIONAL group's patterns begin in ``patterns``
        self.in_optional: set[int] = set()  # the indices of the patterns read in OPTIONAL groups
        self.linear_only: list[str] = []  # constructs read that only the linear verdict admits
        self.bound: set[str] = set()  # the variables BIND and GRAPH give a value
        self.grouped = False  # whether GROUP BY may follow (a SELECT with a projection)

    # -- tokens -----------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        return self.tokens[self.pos + ahead]

    def next(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def word(self) -> str:
        kind, value = self.tokens[self.pos]
        return value.lower() if kind == "word" else ""

    def expect(self, value: str) -> None:
        kind, found = self.next()
        if found != value or kind != "other":
            raise Unbounded(f"{value!r} expected, {found or 'the end'!r} found")

    def at(self, value: str) -> bool:
        return self.tokens[self.pos] == ("other", value)

    # -- the query --------------------------------------------------------------------------------

    def query(self) -> None:
        while self.word() == "prefix":
            self.next()
            kind, name = self.next()
            kind_iri, iri = self.next()
            if kind != "pname" or not name.endswith(":") or kind_iri != "iri":
                raise Unbounded("a PREFIX declaration it cannot read")
            # Redeclaring a prefix (`PREFIX kusei: <…rdf-syntax-ns#>`) changes what its names mean;
            # they are read with the query's own declarations, so `kusei:type` is seen as rdf:type.
            self.prefixes[name[:-1]] = iri[1:-1]
        form = self.word()
        self.next()
        if form not in ("select", "ask", "construct"):
            # BASE makes relative IRIs mean something else; the rules read absolute ones only.
            raise Unbounded(f"{form.upper() or 'no form'} in the prologue")
        if form == "select":
            if self.word() in ("distinct", "reduced"):
                self.next()
            if self.at("*"):
                self.next()
            else:
                self.grouped = True
                if self.peek()[0] != "var" and not self.at("("):
                    raise Unbounded("a SELECT clause it cannot read")
                while self.peek()[0] == "var" or self.at("("):
                    if self.next()[0] != "var":
                        self.aggregate()
            self.where()
        elif form == "ask":
            self.where()
        else:  # construct
            if self.at("{"):
                self.template()
            elif self.word() != "where":
                raise Unbounded("a CONSTRUCT it cannot read")
            self.where()
        self.modifiers()
        if self.peek()[0] != "end":
            raise Unbounded(f"{self.peek()[1]!r} after the query")

    def template(self) -> None:
        # The template is not evaluated: each solution instantiates it once, and its size is
        # bounded by the text's length.
        self.expect("{")
        while not self.at("}"):
            kind, value = self.next()
            if kind == "end" or (kind == "other" and value in "{[("):
                raise Unbounded("a CONSTRUCT template with nested brackets")
        self.next()

    def aggregate(self) -> None:
        """`(AGGREGATE([DISTINCT] ?v) AS ?x)` in the projection, after its `(` (linear verdict only).

        Evaluated after the whole group, whose solutions the walks bound (N of them): a hash table
        puts each solution in its group (GROUP BY plain variables, see :meth:`modifiers`), and
        each aggregate takes one step per solution on the value of one variable. COUNT, SUM, AVG
        and SAMPLE keep a constant-size state, MIN and MAX compare two terms (at most the length of
        a value of the data), DISTINCT keeps a hash set of the values seen, GROUP_CONCAT appends
        each value and the separator (a short string) once: its result is at most the size of the
        solutions, and the answer's bytes are budgeted anyway. So N steps of bounded cost, then a
        sort of at most N groups (n log n); nothing multiplies N by itself. Refused: an aggregate
        over an expression (a cost per row the rules would have to bound), nested aggregates
        (the same), HAVING (a second pass over the groups, with expressions), GROUP BY expressions,
        and any expression in the projection that is no aggregate.
        """
        name = self.word()
        if name not in AGGREGATES:
            # `(expression AS ?x)` computes per row; the rules bound aggregates of variables only.
            raise Unbounded("an expression in the SELECT clause")
        self.next()
        self.expect("(")
        if self.word() == "distinct":
            self.next()
        if name == "count" and self.at("*"):
            self.next()
        elif self.next()[0] != "var" or not (self.at(")") or self.at(";")):
            raise Unbounded(f"{name.upper()} of an expression")
        if name == "group_concat" and self.at(";"):
            self.next()
            if self.word() != "separator":
                raise Unbounded("GROUP_CONCAT with an option it cannot read")
            self.next()
            self.expect("=")
            if self.next()[0] != "short":
                raise Unbounded("GROUP_CONCAT with a separator that is no short string")
        self.expect(")")
        if self.word() != "as":
            raise Unbounded(f"{name.upper()} without AS")
        self.next()
        if self.next()[0] != "var":
            raise Unbounded(f"{name.upper()} AS no variable")
        self.expect(")")
        self.linear_only.append(name.upper())

    def where(self, group: str = "top") -> None:
        """A group: the query's (``top``), an OPTIONAL one or a GRAPH one.

        BIND and GRAPH end a group's patterns: after them the group holds only FILTERs and BINDs.
        A group `{ A BIND(e AS ?v) B }` is the join of A extended with ?v and of B, which the
        engine may evaluate on its own (a product of B's unconnected parts); with nothing after
        BIND it is A extended, one expression per solution of A. Likewise a GRAPH group must be
        the group's only patterns, so that it is not joined with patterns evaluated apart.
        """
        if self.word() == "where":
            self.next()
        self.expect("{")
        closed = ""  # the construct after which only FILTER and BIND may come
        while not self.at("}"):
            word = self.word()
            if closed and word not in ("filter", "bind") and not self.at(".") and not self.at("}"):
                raise Unbounded(f"a graph pattern after {closed}")
            if word == "filter":
                self.next()
                self.filter()
            elif word == "bind" and group != "optional":
                self.next()
                self.bind()
                closed = "BIND"
            elif word == "graph" and group == "top":
                if self.patterns or self.values or self.optionals:
                    raise Unbounded("GRAPH beside other patterns")
                self.next()
                self.graph()
                closed = "GRAPH"
            elif word == "values" and not self.optional:
                self.next()
                self.values_block()
            elif word == "optional" and not self.optional:
                # A left join of walks out of known nodes: at most the walks' solutions, or one.
                self.next()
                self.optional = True
                self.optionals.append(len(self.patterns))
                self.where("optional")
                self.optional = False
            elif self.at("."):
                self.next()
            elif self.at("{") or word == "optional":
                # Nested groups are joins of their own (and subqueries live in them).
                raise Unbounded("a nested group")
            elif word and word not in ("a", "true", "false"):
                raise Unbounded(f"{word.upper()}")
            elif self.peek()[0] == "end":
                raise Unbounded("an unclosed group")
            else:
                self.triples()
        self.next()

    def filter(self) -> None:
        # A FILTER costs a constant per solution with the functions admitted; what it filters is
        # bounded by the patterns. Built-in calls without brackets (FILTER ?x) do not parse.
        self.expression("FILTER", _FILTER_WORDS)

    def expression(self, where: str, words: frozenset[str]) -> str | None:
        """Read `( expression )` whose words are all in ``words``; in BIND, the expression ends
        with `AS ?v` at its outer level: then the name of ?v."""
        self.expect("(")
        depth = 1
        target = None
        while depth:
            kind, value = self.next()
            if kind == "end":
                raise Unbounded(f"an unclosed {where}")
            if target is not None and (kind, value) != ("other", ")"):
                raise Unbounded(f"{value!r} after AS in {where}")
            if kind == "other" and value == "(":
                depth += 1
            elif kind == "other" and value == ")":
                depth -= 1
            elif kind == "other" and value in "{}[":
                raise Unbounded(f"a group inside {where} (EXISTS)")
            elif where == "BIND" and kind == "word" and value.lower() == "as" and depth == 1:
                kind, name = self.next()
                if kind != "var":
                    raise Unbounded("BIND AS no variable")
                target = name[1:]
            elif where == "BIND" and kind == "word" and _MINUS.fullmatch(value):
                pass  # a minus sign, or a negative number (`-1` is one word token here)
            elif kind == "word" and value.lower() not in words:
                raise Unbounded(f"{value.upper()} in {where}")
            elif kind == "iri" and not _PLAIN_IRI.fullmatch(value):
                raise Unbounded(f"an IRI in {where} that could be read as a comparison")
            elif kind in ("long", "escape", "bnode"):
                raise Unbounded(f"a {kind} token in {where}")
        return target

    def bind(self) -> None:
        """`BIND(expression AS ?v)` as the last patterns of its group (linear verdict only).

        The expression holds variables, constants, arithmetic, comparisons and the functions of
        :data:`_BIND_WORDS`, each a constant cost per solution on the terms it is given (string
        functions at most the length of a value of the data), and none makes a value longer than
        its argument. Nothing but FILTER and BIND may follow it in the group (:meth:`where`): the
        group is then its patterns' solutions, bounded by the walks, extended by one value each.
        ?v is new: no pattern, VALUES, GRAPH or earlier BIND gives it a value, so it joins nothing
        and is no start the walks do not know; it may be projected, grouped, ordered, filtered.
        """
        target = self.expression("BIND", _BIND_WORDS)
        if target is None:
            raise Unbounded("BIND without AS")
        if target in self.bound or target in self.values or any(
                term == ("var", target) for pattern in self.patterns for term in pattern):
            raise Unbounded(f"BIND of ?{target}, which already has a value")
        self.bound.add(target)
        self.linear_only.append("BIND")

    def graph(self) -> None:
        """`GRAPH ?g { … }` or `GRAPH <iri> { … }` as the query's only patterns (linear verdict only).

        Its group obeys the rules of the top group (:meth:`judge` reads its patterns as any
        others). In a Kusei release every triple is in a named graph (a document's, or the
        reference, interpretation, ontology or dataset graph) and the default graph is their merge
        (6,866 quads in the named graphs, 6,860 distinct triples in the merge, on the repository's
        data): a pattern matched across the named graphs matches at most the quads of the release
        (the size inline.SMALL_RELEASE measures), and with ?g known, a walk in one graph finds at
        most the values the merge has. So the walks' bound holds with the named
        graphs in place of the default graph, and a GRAPH <iri> group is a slice of it. ?g is
        bound by the graph, not by a pattern: it may be projected, grouped, ordered, filtered.
        """
        name = self.term()
        if name[0] == "literal":
            raise Unbounded("GRAPH of a literal")
        if name[0] == "var":
            self.bound.add(name[1])
        self.where("graph")
        self.linear_only.append("GRAPH")

    def values_block(self) -> None:
        kind, name = self.next()
        if kind != "var":
            raise Unbounded("VALUES with several variables")
        self.expect("{")
        count = 0
        while not self.at("}"):
            term = self.term()
            if term[0] != "iri" and term[0] != "literal":
                raise Unbounded("VALUES with UNDEF or a variable")
            count += 1
        self.next()
        if count > MAX_VALUES:
            raise Unbounded(f"VALUES with more than {MAX_VALUES} values")
        self.values[name[1:]] = count

    def triples(self) -> None:
        subject = self.term()
        while True:
            predicate = self.predicate()
            while True:
                obj = self.term()
                if self.optional:
                    self.in_optional.add(len(self.patterns))
                self.patterns.append((subject, predicate, obj))
                if len(self.patterns) > MAX_PATTERNS:
                    raise Unbounded(f"more than {MAX_PATTERNS} triple patterns")
                if not self.at(","):
                    break
                self.next()
            if not self.at(";"):
                break
            while self.at(";"):
                self.next()
            if self.at(".") or self.at("}"):
                break

    def predicate(self) -> Term:
        kind, value = self.peek()
        if kind == "other" and value in _PATH:
            raise Unbounded("a property path")
        if kind == "word" and value == "a":  # only lower-case `a` is the keyword
            self.next()
            term: Term = ("iri", RDF_TYPE)
        else:
            term = self.term()
            if term[0] == "literal":
                raise Unbounded("a literal as predicate")
        kind, value = self.peek()
        if kind == "other" and value in _PATH:
            raise Unbounded("a property path")
        return term

    def term(self) -> Term:
        kind, value = self.next()
        if kind == "var":
            return ("var", value[1:])
        if kind == "iri":
            if not _ABSOLUTE_IRI.fullmatch(value):
                raise Unbounded("a relative IRI")
            return ("iri", value[1:-1])
        if kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix not in self.prefixes:
                raise Unbounded(f"an undeclared prefix {prefix}:")
            return ("iri", self.prefixes[prefix] + local)
        if kind in ("short", "long"):
            if self.peek()[0] == "langtag":
                self.next()
            elif self.at("^") and self.peek(1) == ("other", "^"):
                self.pos += 2
                datatype = self.term()
                if datatype[0] != "iri":
                    raise Unbounded("a datatype that is no IRI")
            return ("literal", value)
        if kind == "number":
            return ("literal", value)
        if kind == "other" and value in "+-" and self.peek()[0] == "number":
            return ("literal", value + self.next()[1])
        if kind == "word" and value.lower() in ("true", "false"):
            return ("literal", value)
        # Blank nodes and `[ … ]` are variables with no name to follow, `( … )` a collection.
        raise Unbounded(f"{value!r} where a term was expected")

    def modifiers(self) -> None:
        # ORDER BY and DISTINCT need every solution before the first is sent: admitted because the
        # patterns bound how many there are. GROUP BY plain variables puts each solution in a hash
        # table's group, once (linear verdict only, see :meth:`aggregate`); GROUP BY an expression
        # and HAVING are not admitted.
        if self.word() == "group":
            self.next()
            if self.word() != "by":
                raise Unbounded("GROUP without BY")
            self.next()
            if self.peek()[0] != "var":
                raise Unbounded("GROUP BY an expression")
            if not self.grouped:
                # ASK, CONSTRUCT and SELECT * have no projection to group: pyoxigraph refuses them.
                raise Unbounded("GROUP BY without a projection")
            while self.peek()[0] == "var":
                self.next()
            if self.at("(") or self.peek()[0] not in ("word", "end") or self.word() not in ("order", "limit",
                                                                                              "offset", ""):
                raise Unbounded("GROUP BY an expression")
            self.linear_only.append("GROUP BY")
        if self.word() == "order":
            self.next()
            if self.word() != "by":
                raise Unbounded("ORDER without BY")
            self.next()
            while True:
                if self.peek()[0] == "var":
                    self.next()
                elif self.word() in ("asc", "desc"):
                    self.next()
                    self.expect("(")
                    if self.next()[0] != "var":
                        raise Unbounded("ORDER BY an expression")
                    self.expect(")")
                else:
                    break
        while self.word() in ("limit", "offset"):
            self.next()
            if self.next()[0] != "number":
                raise Unbounded("LIMIT or OFFSET without a number")

    # -- the bound ----------------------------------------------------------------------------------

    def judge(self, *, scans: bool) -> None:
        """Every pattern must be reached from at most one start by walking out of known nodes.

        The start is a fan-in from a constant; with ``scans``, also every subject of one class or
        one property (a slice of the data, linear in its size). OPTIONAL groups are walks only.
        """
        value_vars: set[Term] = {("var", name) for name in self.values}
        known: set[Term] = set(value_vars)
        walked: set[tuple[Term, str]] = set()
        starts = 0
        self.variable_predicates = 0
        waiting = [p for i, p in enumerate(self.patterns) if i not in self.in_optional]
        while waiting:
            # Walk out of known nodes as far as possible before starting anew, so that a pattern
            # another one reaches is a check on known nodes, not a second start.
            if self._walk(waiting, known, walked):
                continue
            for pattern in waiting:
                subject, predicate, obj = pattern
                if predicate[0] != "iri":
                    # Not every triple either (`?s ?p ?o`, in a GRAPH group or not): it is linear,
                    # but the largest slice there is, several times the cost the small-release
                    # bound was set for (inline.SMALL_RELEASE: example 14, a count of every quad per
                    # graph, takes ~3 ms on the repository's 6,866 quads where the class scans
                    # take 0.1-1.5 ms), and an aggregate of it cannot be stopped once it runs.
                    continue
                # A class is no fan-in: its members are a whole slice of the data, and two classes
                # side by side are the cartesian product that looks like a lookup. A variable
                # object is none either: the subjects pointing at each of many values (shared
                # values such as positions or years) join everything with everything.
                if predicate[1] != RDF_TYPE and (obj[0] in ("iri", "literal") or obj in value_vars):
                    break
                if scans:
                    break
            else:
                subject, predicate, obj = waiting[0]
                raise Unbounded("a triple pattern not reached from a constant by following its subjects "
                                f"({_show(subject)} {_show(predicate)} {_show(obj)})")
            # One start: a second one would be an independent set, and the two sets' solutions
            # multiply (the cartesian product, however cheap each looks).
            starts += 1
            if starts > 1:
                raise Unbounded("two independent starting points (their solutions multiply)")
            known.update(term for term in pattern if term[0] == "var")
            waiting.remove(pattern)
        optional = [p for i, p in enumerate(self.patterns) if i in self.in_optional]
        while optional:
            if not self._walk(optional, known, walked):
                subject, predicate, obj = optional[0]
                raise Unbounded("an OPTIONAL pattern that does not walk out of a known node "
                                f"({_show(subject)} {_show(predicate)} {_show(obj)})")

    def _walk(self, waiting: list[tuple[Term, Term, Term]], known: set[Term],
              walked: set[tuple[Term, str]]) -> bool:
        """Take every pattern of ``waiting`` whose subject is known; whether there was one."""
        step_taken = False
        for pattern in list(waiting):
            subject, predicate, obj = pattern
            if not (subject[0] == "iri" or subject in known):
                continue
            if predicate[0] == "var":
                # Every property of a node at once: its whole out-degree. Once per query.
                self.variable_predicates += 1
                if self.variable_predicates > 1:
                    raise Unbounded("more than one variable predicate")
            else:
                # A node's values for one property. The same property twice out of one node to
                # new variables (`?x :p ?a . ?x :p ?b`) multiplies its values by themselves: the
                # out-degree to the power of the repetitions.
                step = (subject, predicate[1])
                if step in walked and obj[0] == "var" and obj not in known:
                    raise Unbounded(f"the property <{predicate[1]}> twice out of one node")
                walked.add(step)
            known.update(term for term in pattern if term[0] == "var")
            waiting.remove(pattern)
            step_taken = True
        return step_taken


def _show(term: Term) -> str:
    kind, value = term
    return f"?{value}" if kind == "var" else f"<{value}>" if kind == "iri" else value
