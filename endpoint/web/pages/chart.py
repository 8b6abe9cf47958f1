"""The comparison's chart, drawn on the server as SVG (templates/_chart.html): for each policy
area, one pair of bars per plan (measures, projects). No script, no library from outside.
"""

from __future__ import annotations

from dataclasses import dataclass

from kusei.endpoint.web.pages.compare import Comparison


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    kind: str  # "measures" or "projects"
    label: str


@dataclass
class Chart:
    width: int
    height: int
    label_width: int
    rows: list[tuple[str, float]]  # area label, y of its first bar
    bars: list[Bar]
    plans: list[tuple[str, str]]  # legend: plan label, colour class
    max_value: int
    ticks: list[tuple[float, int]]


def chart(comparison: Comparison) -> Chart:
    """Horizontal bars: for each policy area, its label above one pair (measures, projects) per plan.

    Labels above the bars rather than beside them keep the drawing 360 units wide, so it fits a
    390 px phone at about its own size and scales up on wider screens.
    """
    label_width, plot_width, bar, gap, group_gap, label_height = 8, 320, 7, 1, 10, 16
    per_area = len(comparison.plans) * (2 * bar + gap)
    values = [(len(cell), sum(len(m.projects) for m in cell)) for _, cells in comparison.rows for cell in cells]
    max_value = max([max(v) for v in values] or [1]) or 1
    scale = plot_width / max_value
    bars: list[Bar] = []
    rows = []
    y = 30.0
    for area, cells in comparison.rows:
        rows.append((area.label_ja, y))
        y += label_height
        for index, (plan, cell) in enumerate(zip(comparison.plans, cells, strict=True)):
            n_measures, n_projects = len(cell), sum(len(m.projects) for m in cell)
            top = y + index * (2 * bar + gap)
            bars.append(Bar(label_width, top, n_measures * scale, bar, n_measures, f"plan{index % 6}",
                            f"{area.label_ja} · {plan.short_label}: 施策 {n_measures} measures"))
            bars.append(Bar(label_width, top + bar, n_projects * scale, bar, n_projects, f"plan{index % 6} projects",
                            f"{area.label_ja} · {plan.short_label}: 事業 {n_projects} projects"))
        y += per_area + group_gap
    step = max(1, round(max_value / 5))
    ticks = [(label_width + v * scale, v) for v in range(0, max_value + 1, step)]
    return Chart(label_width + plot_width + 32, int(y + 10), label_width, rows, bars,
                 [(p.short_label, f"plan{i % 6}") for i, p in enumerate(comparison.plans)], max_value, ticks)
