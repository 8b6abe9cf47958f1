"""Canned queries: example queries with parameters (ward, fiscal year, policy area) become forms,
as Datasette's canned queries do, for people who do not write SPARQL.

A parameter is a line of its own in the example's text::

    #param ?ward ward

As written it is a comment, so the example runs for every ward. The form fills it in as a VALUES
block that keeps the marker after it::

    VALUES ?ward { <https://w3id.org/kusei/id/area/141089> } #param ?ward ward

so the filled-in text is an ordinary query — the result page is the query page with the same
links, downloads and charts — and the form can be shown again with the chosen values. The values
offered are those in the release; anything else is refused, so no text of the visitor's reaches
the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from kusei.endpoint.web.pages import data
from kusei.release import Release

KINDS = ("ward", "year", "area")
_PARAM_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?:VALUES[ \t]+\?(?P<bound>\w+)[ \t]*\{(?P<values>[^}\n]*)\}[ \t]*)?"
    r"#[ \t]*param[ \t]+\?(?P<var>\w+)[ \t]+(?P<kind>\w+)[ \t]*$", re.M)
LABELS = {"ward": ("区", "Ward"), "year": ("年度", "Fiscal year"), "area": ("政策分野", "Policy area")}

# The page query (endpoint/queries/pages) that lists the values of each kind.
OPTION_QUERIES = {"ward": "canned-wards", "year": "canned-years", "area": "canned-areas"}


@dataclass(frozen=True)
class Option:
    value: str  # as the form sends it: the IRI, or the year's digits
    label: str
    term: str  # as it goes into the VALUES block


@dataclass
class Param:
    var: str
    kind: str
    label_ja: str
    label_en: str
    options: list[Option]
    chosen: str = ""  # the option's value, "" for every one


def params_in(query: str) -> list[tuple[str, str, str]]:
    """(variable, kind, value bound now or "") of each parameter line of ``query``, in order."""
    found = []
    for match in _PARAM_LINE.finditer(query):
        if match.group("kind") in KINDS:
            found.append((match.group("var"), match.group("kind"), (match.group("values") or "").strip()))
    return found


def unfilled(query: str) -> str:
    """``query`` with every parameter line back to its bare marker: the example it was made from."""
    return _PARAM_LINE.sub(lambda m: f"{m.group('indent')}#param ?{m.group('var')} {m.group('kind')}", query)


def options(release: Release, kind: str) -> list[Option]:
    """The values of ``kind`` in ``release``, labelled (computed once per release)."""
    def compute() -> list[Option]:
        rows = data.run(release, OPTION_QUERIES[kind])
        found: list[Option] = []
        for row in rows:
            value = row.get("value")
            if isinstance(value, ox.NamedNode):
                label = row.get("label")
                found.append(Option(value.value, label.value if label is not None else value.value, str(value)))
            elif isinstance(value, ox.Literal) and value.value.isdigit():
                found.append(Option(value.value, value.value, value.value))
        return found

    return release.memo(f"canned-options-{kind}", compute)


def form_for(release: Release, query: str) -> list[Param]:
    """The parameters of ``query`` with the values on offer and the one each has now."""
    params = []
    for var, kind, bound in params_in(query):
        offered = options(release, kind)
        chosen = next((o.value for o in offered if o.term == bound), "")
        ja, en = LABELS[kind]
        params.append(Param(var, kind, ja, en, offered, chosen))
    return params


class UnknownValue(ValueError):
    """A value the form did not offer."""


def fill(release: Release, query: str, values: dict[str, str]) -> str:
    """``query`` with each parameter bound to ``values[var]`` (an offered value) or left open ("")."""
    offered = {(var, o.value): o for var, kind, _ in params_in(query) for o in options(release, kind)}

    def line(match: re.Match[str]) -> str:
        var, kind, indent = match.group("var"), match.group("kind"), match.group("indent")
        if kind not in KINDS:
            return match.group(0)
        value = values.get(var, "")
        marker = f"#param ?{var} {kind}"
        if not value:
            return indent + marker
        option = offered.get((var, value))
        if option is None:
            raise UnknownValue(f"{LABELS[kind][1]} {value!r} is not one of the values offered for ?{var}.")
        return f"{indent}VALUES ?{var} {{ {option.term} }} {marker}"

    return _PARAM_LINE.sub(line, query)
