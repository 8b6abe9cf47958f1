"""Charts of a SELECT result, drawn on the server as SVG (templates/_result_chart.svg), so they work
without JavaScript and download as a file.

A result can be charted when it has label columns (text, or a fiscal year) and numeric columns:

- ``bar``: one row of bars per label, one bar per numeric column;
- ``stacked``: one bar per first label, split by the other labels (e.g. area × ward), sized by the
  first numeric column;
- ``line``: the first numeric column over the fiscal years, one line per other label.

The view is chosen by a line ``#view:bar`` (``stacked``, ``line``, ``table``) in the query, or by
the page's control, which wins over the comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

VIEWS = ("table", "bar", "stacked", "line")
_VIEW_LINE = re.compile(r"^[ \t]*#[ \t]*view[ \t]*:[ \t]*([A-Za-z]+)[ \t]*$", re.M)
_NUMERIC = ("integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
            "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")
_YEARISH = re.compile(r"year|年度|fy", re.I)
# A chart of hundreds of bars helps nobody; the table below it holds every row.
MAX_CATEGORIES = 60
MAX_SERIES = 10
# Okabe and Ito's colours (told apart with the common colour-vision deficiencies) and a few darker ones.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#6a3d9a", "#333333",
           "#b15928", "#1f78b4")
PALETTE = len(COLOURS)


class CellLike(Protocol):
    kind: str
    text: str
    datatype: str | None
    display: str | None


def view_of(query: str) -> str | None:
    """The view a ``#view:…`` line of the query asks for (the first one that names a view)."""
    for match in _VIEW_LINE.finditer(query):
        name = match.group(1).lower()
        if name in VIEWS:
            return name
    return None


def _is_number(cell: CellLike | None) -> bool:
    if cell is None or cell.kind != "literal" or not cell.datatype:
        return False
    if cell.datatype.rsplit(":", 1)[-1].rsplit("#", 1)[-1] not in _NUMERIC:
        return False
    try:
        float(cell.text)
    except ValueError:
        return False
    return True


def _shown(cell: CellLike | None) -> str:
    if cell is None:
        return "—"
    return cell.display or cell.text if cell.kind == "iri" else cell.text


@dataclass
class Columns:
    labels: list[int]  # text columns (IRIs only where no text column names the same thing)
    years: list[int]  # numeric columns that are fiscal years: labels, not quantities
    numbers: list[int]  # quantities


def classify(variables: list[str], rows: list[list[CellLike | None]]) -> Columns:
    """Which columns are labels, years and quantities, judged on every bound cell."""
    labels: list[int] = []
    years: list[int] = []
    numbers: list[int] = []
    iris: list[int] = []
    for index, name in enumerate(variables):
        cells = [row[index] for row in rows if row[index] is not None]
        if not cells:
            continue
        if all(_is_number(c) for c in cells):
            whole = all(float(c.text).is_integer() for c in cells if c is not None)
            in_range = all(1900 <= float(c.text) <= 2200 for c in cells if c is not None)
            (years if whole and in_range and _YEARISH.search(name) else numbers).append(index)
        elif all(c is not None and c.kind == "literal" for c in cells):
            labels.append(index)
        else:
            iris.append(index)
    # An IRI column is only a label when no text column is there to name the rows.
    return Columns(labels or iris[:1], years, numbers)


@dataclass
class Mark:
    """One bar (or bar segment, or point) with what a screen reader and a tooltip say of it."""

    x: float
    y: float
    width: float
    height: float
    series: int  # colour class
    title: str


@dataclass
class Line:
    series: int
    name: str
    points: str  # the polyline's points attribute


@dataclass
class ResultChart:
    view: str
    title: str
    summary: str  # the desc of the SVG: what the chart shows, in words
    width: int
    height: int
    label_width: int
    categories: list[tuple[str, float]]  # label and the y (bar views) or x (line) where it is written
    marks: list[Mark]
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, int]] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # value axis
    left_out: int = 0  # categories or series not drawn (over the caps)
    value_axis: tuple[float, float] = (0.0, 0.0)  # bar views: x of 0 and of the maximum; line: y of both

    @property
    def colours(self) -> tuple[str, ...]:
        return COLOURS


def _ticks(maximum: float, start: float, length: float, count: int = 5) -> list[tuple[float, str]]:
    if maximum <= 0:
        return [(start, "0")]
    raw = maximum / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = max(1, round(raw / magnitude)) * magnitude
    values = []
    value = 0.0
    while value <= maximum + 1e-9:
        values.append(value)
        value += step
    return [(start + v / maximum * length, f"{v:g}") for v in values]


def _number(cell: CellLike | None) -> float:
    return float(cell.text) if cell is not None and _is_number(cell) else 0.0


def build(view: str, variables: list[str], rows: list[list[CellLike | None]]) -> ResultChart | str:
    """The chart of ``rows`` in ``view``, or why this result cannot be drawn that way (ja / en)."""
    cols = classify(variables, rows)
    if not rows:
        return "結果が空なので図にできません。 The result is empty: nothing to draw."
    if not cols.numbers:
        return "数値の列がないので図にできません。 The result has no numeric column to draw."
    if view == "line":
        return _line(variables, rows, cols)
    dims = cols.labels + cols.years
    if not dims:
        return "ラベルの列がないので図にできません。 The result has no label column to draw."
    if view == "stacked":
        return _stacked(variables, rows, cols)
    return _bar(variables, rows, cols)


def _key(row: list[CellLike | None], columns: list[int]) -> str:
    return " · ".join(_shown(row[i]) for i in columns)


def _bar(variables: list[str], rows: list[list[CellLike | None]], cols: Columns) -> ResultChart:
    dims = cols.labels + cols.years
    numbers = cols.numbers[:MAX_SERIES]
    shown, left_out = rows[:MAX_CATEGORIES], max(0, len(rows) - MAX_CATEGORIES)
    label_width, plot, bar, group_gap = 230, 480, 12, 8
    maximum = max([_number(r[i]) for r in shown for i in numbers] + [0.0])
    scale = plot / maximum if maximum > 0 else 0.0
    marks, categories = [], []
    y = 30.0
    for row in shown:
        label = _key(row, dims)
        categories.append((label, y + bar * len(numbers) / 2))
        for s, index in enumerate(numbers):
            cell = row[index]
            marks.append(Mark(label_width, y + s * bar, _number(cell) * scale, bar - 2, s % PALETTE,
                              f"{label}: ?{variables[index]} = {cell.text if cell is not None else '—'}"))
        y += bar * len(numbers) + group_gap
    names = ", ".join("?" + variables[i] for i in numbers)
    return ResultChart(
        "bar", f"棒グラフ Bar chart: {names}",
        f"{len(shown)} groups of bars by {' · '.join('?' + variables[i] for i in dims)}, one bar per {names}.",
        label_width + plot + 40, int(y + 10), label_width, categories, marks,
        legend=[("?" + variables[i], s % PALETTE) for s, i in enumerate(numbers)] if len(numbers) > 1 else [],
        ticks=_ticks(maximum, label_width, plot), left_out=left_out, value_axis=(label_width, label_width + plot))


def _stacked(variables: list[str], rows: list[list[CellLike | None]], cols: Columns) -> ResultChart:
    dims = cols.labels + cols.years
    first, rest = dims[:1], dims[1:]
    value_col = cols.numbers[0]
    totals: dict[str, dict[str, float]] = {}
    stack_names: list[str] = []
    for row in rows:
        category, stack = _key(row, first), _key(row, rest) if rest else "?" + variables[value_col]
        totals.setdefault(category, {})
        totals[category][stack] = totals[category].get(stack, 0.0) + _number(row[value_col])
        if stack not in stack_names:
            stack_names.append(stack)
    categories_all = list(totals)
    shown = categories_all[:MAX_CATEGORIES]
    left_out = len(categories_all) - len(shown)
    label_width, plot, bar, gap = 230, 480, 16, 6
    maximum = max([sum(parts.values()) for parts in totals.values()] + [0.0])
    scale = plot / maximum if maximum > 0 else 0.0
    marks, categories = [], []
    y = 30.0
    for category in shown:
        categories.append((category, y + bar / 2))
        x = float(label_width)
        for s, stack in enumerate(stack_names):
            value = totals[category].get(stack, 0.0)
            if value:
                marks.append(Mark(x, y, value * scale, bar, s % PALETTE,
                                  f"{category} · {stack}: ?{variables[value_col]} = {value:g}"))
                x += value * scale
        y += bar + gap
    by = " · ".join("?" + variables[i] for i in rest)
    return ResultChart(
        "stacked", f"積み上げ棒グラフ Stacked bars: ?{variables[value_col]} by ?{variables[first[0]]}"
        + (f" and {by}" if by else ""),
        f"One bar per ?{variables[first[0]]} ({len(shown)}), split by {by or 'nothing'}; "
        f"length is the sum of ?{variables[value_col]}.",
        label_width + plot + 40, int(y + 10), label_width, categories, marks,
        legend=[(name, s % PALETTE) for s, name in enumerate(stack_names)],
        ticks=_ticks(maximum, label_width, plot), left_out=left_out, value_axis=(label_width, label_width + plot))


def _line(variables: list[str], rows: list[list[CellLike | None]], cols: Columns) -> ResultChart | str:
    if not cols.years:
        return ("年度の列(名前に year を含む整数の列)がないので折れ線にできません。 "
                "The result has no fiscal-year column (an integer column named …year…) to draw lines over.")
    year_col = cols.years[0]
    value_cols = [i for i in cols.numbers if i != year_col]
    if not value_cols:
        return "数値の列がないので図にできません。 The result has no numeric column to draw."
    value_col = value_cols[0]
    series_cols = cols.labels + cols.years[1:]
    series: dict[str, dict[int, float]] = {}
    for row in rows:
        year_cell = row[year_col]
        if year_cell is None:
            continue
        name = _key(row, series_cols) if series_cols else "?" + variables[value_col]
        year = int(float(year_cell.text))
        series.setdefault(name, {})
        series[name][year] = series[name].get(year, 0.0) + _number(row[value_col])
    names = list(series)[:MAX_SERIES]
    left_out = len(series) - len(names)
    years = sorted({y for name in names for y in series[name]})
    left, top, plot_w, plot_h = 60, 20, 560, 280
    maximum = max([v for name in names for v in series[name].values()] + [0.0])
    span = max(1, years[-1] - years[0]) if years else 1

    def x_of(year: int) -> float:
        return left + (year - years[0]) / span * plot_w if len(years) > 1 else left + plot_w / 2

    def y_of(value: float) -> float:
        return top + plot_h - (value / maximum * plot_h if maximum > 0 else 0.0)

    lines, marks = [], []
    for s, name in enumerate(names):
        points = sorted(series[name].items())
        lines.append(Line(s % PALETTE, name, " ".join(f"{x_of(y):.1f},{y_of(v):.1f}" for y, v in points)))
        for year, value in points:
            marks.append(Mark(x_of(year), y_of(value), 0, 0, s % PALETTE,
                              f"{name} · {year}: ?{variables[value_col]} = {value:g}"))
    ticks = [(y_of(v), label) for v, label in
             ((float(t), t) for _, t in _ticks(maximum, 0, 1))] if maximum > 0 else [(y_of(0), "0")]
    return ResultChart(
        "line", f"折れ線グラフ Line chart: ?{variables[value_col]} over ?{variables[year_col]}",
        f"{len(names)} lines over the years {', '.join(map(str, years))}.",
        left + plot_w + 40, top + plot_h + 40, left, [(str(y), x_of(y)) for y in years], marks, lines=lines,
        legend=[(name, s % PALETTE) for s, name in enumerate(names)], ticks=ticks, left_out=left_out,
        value_axis=(y_of(0), y_of(maximum)))
