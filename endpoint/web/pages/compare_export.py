"""The comparison pages as data: JSON and CSV of the ward list, a ward's plans, the comparison by
policy area and the year-over-year changes, from the same models the HTML pages show.
"""

from __future__ import annotations

import csv
import io

from kusei.endpoint.web.pages.compare import Comparison, Item, WardSummary, YearStep


def comparison_json(comparison: Comparison) -> dict:
    def item(m: Item) -> dict:
        return {"iri": m.iri, "href": m.href, "number": m.number, "number_value": m.number_value, "title": m.title,
                "projects": [{"iri": p.iri, "href": p.href, "title": p.title} for p in m.projects]}

    return {
        "plans": [{"iri": p.iri, "href": p.href, "ward": p.ward_label, "year": p.year, "label": p.label}
                  for p in comparison.plans],
        "areas": [
            {"iri": area.iri, "label_ja": area.label_ja, "label_en": area.label_en,
             "cells": {plan.iri: [item(m) for m in cell] for plan, cell in zip(comparison.plans, cells, strict=True)}}
            for area, cells in comparison.rows
        ],
    }


def comparison_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["policy_area", "policy_area_ja", "plan", "ward", "year", "measure", "measure_number",
                     "measure_title", "projects", "measure_number_value"])
    for area, cells in comparison.rows:
        for plan, cell in zip(comparison.plans, cells, strict=True):
            for m in cell:
                writer.writerow([area.iri, area.label_ja, plan.iri, plan.ward_label, plan.year or "", m.iri,
                                 m.number or "", m.title, len(m.projects),
                                 "" if m.number_value is None else m.number_value])
    return out.getvalue()


def years_json(ward: WardSummary, steps: list[YearStep]) -> dict:
    def ref(item: Item | None) -> dict | None:
        return {"iri": item.iri, "href": item.href, "title": item.title} if item else None

    return {
        "ward": {"iri": ward.iri, "code": ward.code, "label": ward.label_ja},
        "steps": [{"from": s.before.iri, "to": s.after.iri,
                   "changes": [{"status": c.status, "kind": c.kind, "title": c.title,
                                "evidence": c.evidence, "evidence_ja": c.evidence_ja,
                                "before": ref(c.before), "after": ref(c.after)} for c in s.changes]}
                  for s in steps],
    }


def years_csv(steps: list[YearStep]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["from_plan", "to_plan", "status", "kind", "title", "before", "after", "evidence",
                     "evidence_ja"])
    for s in steps:
        for c in s.changes:
            writer.writerow([s.before.iri, s.after.iri, c.status, c.kind, c.title,
                             c.before.iri if c.before else "", c.after.iri if c.after else "", c.evidence or "",
                             c.evidence_ja or ""])
    return out.getvalue()


def ward_json(ward: WardSummary) -> dict:
    return {
        "iri": ward.iri, "code": ward.code, "label_ja": ward.label_ja, "label_en": ward.label_en,
        "plans": [{"iri": p.iri, "href": p.href, "year": p.year, "year_inferred": p.inferred, "label": p.label,
                   "goal": p.goal_title, "measures": len(p.measures), "projects": p.project_count}
                  for p in ward.plans],
    }


def wards_csv(wards: list[WardSummary]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["ward", "code", "label_ja", "label_en", "plan", "year", "goal", "measures", "projects"])
    for ward in wards:
        head = [ward.iri, ward.code, ward.label_ja, ward.label_en or ""]
        if not ward.plans:
            writer.writerow([*head, "", "", "", "", ""])
        for plan in ward.plans:
            writer.writerow([*head, plan.iri, plan.year or "", plan.goal_title or "", len(plan.measures),
                             plan.project_count])
    return out.getvalue()
