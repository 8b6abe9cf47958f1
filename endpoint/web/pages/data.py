"""The page models' one way to the data: named queries with bound parameters, through the one
query service.

A page query is a file ``endpoint/queries/pages/NAME.rq`` beside the published examples. A
parameter is written as a ``$name`` variable (SPARQL's other spelling of ``?name``), so the file
is itself a query that runs with the parameter open; a ``$`` in these files is only ever a
parameter. A page asks by name, ``run(release, "plan-document", plan=iri)``; the service applies
the guard, the limits and the time limit, declares the ``kusei:`` and standard prefixes, and
serves pages on a lane of their own.

How parameters are bound, and why so: pyoxigraph's ``Store.query`` takes ``substitutions``, but
the query is answered in a child query process that receives only the query text over a pipe,
and the text is what the guard checks first. Binding therefore happens in the text, and only as
the N-Triples form that pyoxigraph writes for one of its own terms: ``ox.NamedNode`` refuses
anything that is not an absolute IRI (a ``>``, a space, a brace or a quote cannot get in), and
``ox.Literal`` escapes quotes, backslashes and line breaks itself. No text of a caller is pasted
in as it is; a value that is not a term is refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence, Set
from pathlib import Path

import pyoxigraph as ox

from kusei.endpoint.query import service
from kusei.endpoint.web import current
from kusei.namespaces import typed
from kusei.release import Release
from kusei.settings import Settings

PAGE_QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries" / "pages"

# What page queries bind: they never select RDF 1.2 triple terms.
Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term]
One = str | int | ox.NamedNode | ox.Literal
# A parameter's value: an IRI (a str, checked as one), a term, an integer (xsd:integer), or a
# list, tuple or set of those, written space-separated for the body of a VALUES block.
Value = One | Sequence[One] | Set[One]  # a Sequence here is a list or a tuple: see _written

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class QueryError(LookupError):
    """A page asked for a query that does not exist, or left a parameter out or unknown."""


class BadParameter(ValueError):
    """A parameter's value is not an IRI or term; it never reaches the query text."""


@functools.cache
def load(name: str) -> tuple[str, frozenset[str]]:
    """The text of the page query ``name`` and the names of its parameters, read once."""
    if not _NAME.fullmatch(name):
        raise QueryError(f"no page query {name!r}: names are lower-case words joined by hyphens")
    path = PAGE_QUERIES_DIR / f"{name}.rq"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueryError(f"no page query {name!r} (no {path.name} in {PAGE_QUERIES_DIR.name}/)") from None
    return text, frozenset(_PARAMETER.findall(text))


def names() -> list[str]:
    """Every page query there is, by name."""
    return sorted(path.stem for path in PAGE_QUERIES_DIR.glob("*.rq"))


def term(value: One) -> str:
    """The N-Triples form of one value; a str must be an absolute IRI."""
    if isinstance(value, ox.NamedNode | ox.Literal):
        return str(value)
    if isinstance(value, bool):
        raise BadParameter(f"{value!r}: pass a boolean as an ox.Literal")
    if isinstance(value, int):
        return str(typed(value, "integer"))
    if isinstance(value, str):
        try:
            return str(ox.NamedNode(value))
        except ValueError as exc:
            raise BadParameter(f"{value!r} is not an IRI: {exc}") from None
    raise BadParameter(f"{value!r} ({type(value).__name__}) is neither an IRI nor an RDF term")


def _raw(value: One) -> str:
    return value.value if isinstance(value, ox.NamedNode | ox.Literal) else str(value)


def _written(value: Value) -> str:
    if isinstance(value, str | int | ox.NamedNode | ox.Literal):
        return term(value)
    if isinstance(value, list | tuple | Set):
        # Once each; a set in the order of its values (the same set gives the same text), a list
        # or tuple in its own order.
        items = sorted(value, key=_raw) if isinstance(value, Set) else list(value)
        return " ".join(dict.fromkeys(term(v) for v in items))
    raise BadParameter(f"{value!r} ({type(value).__name__}) is neither an IRI nor an RDF term")


def bind(name: str, params: Mapping[str, Value]) -> str:
    """The text of page query ``name`` with every ``$parameter`` written as its value's term."""
    text, wanted = load(name)
    missing, unknown = wanted - set(params), set(params) - wanted
    if missing or unknown:
        raise QueryError(f"page query {name!r} takes {sorted(wanted) or 'no parameters'}; "
                         + (f"missing {sorted(missing)}" if missing else "")
                         + ("; " if missing and unknown else "")
                         + (f"unknown {sorted(unknown)}" if unknown else ""))
    written = {key: _written(value) for key, value in params.items()}
    return _PARAMETER.sub(lambda m: written[m.group(1)], text)


def run(release: Release, name: str, *, settings: Settings | None = None, **params: Value) -> list[Row]:
    """Rows of the page query ``name`` (a SELECT) with ``params`` bound, each a dict of the
    variables bound in it (unbound ones are left out). ``settings`` default to the request's."""
    query = bind(name, params)
    rows = service.select(release, query, settings=settings or current.settings())
    return [{key: value for key, value in row.items() if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal)}
            for row in rows]



def triples(release: Release, name: str, *, settings: Settings | None = None, **params: Value) -> list[ox.Triple]:
    """Triples of the page query ``name`` (a CONSTRUCT) with ``params`` bound, as :func:`run`."""
    return service.construct(release, bind(name, params), settings=settings or current.settings())
