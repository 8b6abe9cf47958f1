"""The README's count of plans and wards is the records' (it was written by hand)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kusei.graph.input.record import load_record
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import RECORDS_DIR

pytestmark = pytest.mark.records

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def holdings_sentence() -> str:
    """What the README must say, from the records: wards in the order their first record comes,
    each with its plans' years."""
    wards = Reference().wards
    years: dict[str, list[int]] = {}
    for path in sorted(RECORDS_DIR.glob("*.yaml")):
        record = load_record(path)[0]
        years.setdefault(record.document.ward, []).append(record.plan.fiscal_year.year)
    plans = sum(len(y) for y in years.values())
    listed = ", ".join(f"{wards[code]['name']} " + " and ".join(f"FY{y}" for y in sorted(ys))
                       for code, ys in years.items())
    return (f"Today the graph holds **{plans} plans of {len(years)} wards** ({listed}); "
            f"the other {len(wards) - len(years)} wards have no plan in it yet.")


def test_the_readme_states_the_plans_the_records_hold() -> None:
    text = README.read_text(encoding="utf-8")
    joined = re.sub(r"\s*\n\s*", " ", text)
    expected = holdings_sentence()
    line = next((n for n, row in enumerate(text.splitlines(), 1) if row.startswith("Today the graph holds")), None)
    assert line is not None, f"README.md: no line starting 'Today the graph holds'; write: {expected}"
    assert expected in joined, f"README.md:{line}: the records hold other plans; write: {expected}"
