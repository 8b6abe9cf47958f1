"""A plan already published needs `document.supersedes` to be published again from another
document: the build that publishes it first runs through the SHACL gate, so this is a system test
(moved from tests/unit/test_verify.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graph_input import copy_input, edit

from kusei.graph.build import BuildError, build, published_plans
from kusei.graph.input.reference import Reference
from kusei.graph.input.verify import check_input
from kusei.settings import Settings

pytestmark = [pytest.mark.system, pytest.mark.records]

KANAZAWA = "000_a9155f3b6863ac96.yaml"  # 金沢区 FY2024


def quiet(_: str) -> None:
    pass


def test_a_plan_already_published_needs_supersedes(tmp_path: Path) -> None:
    records = copy_input(tmp_path / "input", [KANAZAWA])
    settings = Settings(data_dir=tmp_path / "data")
    first = build(settings, records_dir=records, report=quiet)
    assert published_plans(settings.data_dir) == {"141089/2024": "a9155f3b6863ac96"}
    # A reissued print of the same plan: a new source and record; the old ones are removed.
    sources = records.parent / "sources"
    (sources / "000_a9155f3b6863ac96.txt").rename(sources / "005_fedcba9876543210.txt")
    (records / KANAZAWA).rename(records / "005_fedcba9876543210.yaml")
    record = records / "005_fedcba9876543210.yaml"
    line = edit(record, "file: 000_a9155f3b6863ac96.txt", "file: 005_fedcba9876543210.txt")
    with pytest.raises(BuildError) as info:
        build(settings, records_dir=records, report=quiet)
    assert info.value.problems == [
        f"005_fedcba9876543210.yaml:{line + 1}: document.supersedes: plan 141089/2024 is already published from "
        "document a9155f3b6863ac96; if this document replaces it, write document.supersedes: a9155f3b6863ac96; "
        "if not, check document.ward and plan.fiscal_year"]
    assert os.readlink(settings.data_dir / "current") == f"releases/{first.release_id}"
    edit(record, "  kind: newsletter\n", "  kind: newsletter\n  supersedes: a9155f3b6863ac96\n")
    outcome = check_input([record], sources, Reference(), published=published_plans(settings.data_dir))
    assert outcome.errors == [] and len(outcome.checked) == 1
