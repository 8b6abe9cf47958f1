"""Mapping of the plan itself: basic goal, banners, measures, projects, bullet items, operation, columns."""

from __future__ import annotations

import unicodedata

import pyoxigraph as ox

from kusei.graph.input.record import (
    Banner,
    Column,
    Item,
    Measure,
    OperationItem,
    Project,
    Text,
    TitledItem,
    printed,
)
from kusei.graph.mapping.context import Context
from kusei.graph.mapping.emitter import Emitter
from kusei.namespaces import DCTERMS, PROV, RDFS, SDG, iri, lit, measure_key, typed

TITLE = ox.NamedNode(DCTERMS + "title")
DESCRIPTION = ox.NamedNode(DCTERMS + "description")


def measure_segment(measure: Measure, order: int) -> str:
    """The measure's key (its printed number in ASCII digits), or u<order> for an unnumbered one."""
    if measure.number is None:
        return f"u{order}"
    return measure_key(measure.number)


def _number(e: Emitter, node: ox.NamedNode, printed_number: str) -> None:
    """The printed number as printed, and beside it as an integer where it is made of digits."""
    e.kusei(node, "printedNumber", typed(printed_number, "string"))
    normalised = unicodedata.normalize("NFKC", printed_number).strip()
    if normalised.isascii() and normalised.isdigit():
        e.kusei(node, "number", typed(int(normalised), "integer"))


def map_plan(cx: Context) -> None:
    e, t, plan = cx.emit, cx.terms, cx.record.plan
    node = cx.plan
    e.typed_entity(node, t.kusei("Plan"))
    e.set_lines(node, 1, cx.source_line_count)
    year_label = plan.fiscal_year.printed and printed(plan.fiscal_year.printed) or f"{plan.fiscal_year.year}年度"
    e.label(node, f"{cx.ward_name} {year_label} 区運営方針")
    e.label(node, f"{cx.ward_en} management policy FY{plan.fiscal_year.year}", "en")
    e.text(node, TITLE, plan.title, ("plan", "title"))
    e.add(node, ox.NamedNode(DCTERMS + "spatial"), cx.ward_area)
    (e.add if cx.prints_issuer else e.editorial_add)(node, ox.NamedNode(DCTERMS + "publisher"), cx.office)
    e.add(node, ox.NamedNode(PROV + "wasDerivedFrom"), cx.document)
    # A year the document does not print is Kusei's inference: editorial, with its reasons.
    year = e.editorial_kusei if plan.fiscal_year.inferred else e.kusei
    year(node, "fiscalYear", t.fiscal_year(plan.fiscal_year.year))
    year(node, "year", typed(plan.fiscal_year.year, "integer"))
    e.editorial_kusei(node, "fiscalYearInferred", typed(plan.fiscal_year.inferred, "boolean"))
    e.text(node, t.kusei("fiscalYearPrinted"), plan.fiscal_year.printed, ("plan", "fiscal_year", "printed"))
    if plan.fiscal_year.reason:
        e.editorial_kusei(node, "fiscalYearInferenceNote", lit(plan.fiscal_year.reason, "en"))
    e.paragraphs(node, t.kusei("preface"), plan.preface, ("plan", "preface"))
    if plan.mtp_basic_strategy is not None:
        e.kusei(node, "citesBasicStrategy", t.mtp("basic-strategy"))
        e.text(node, t.kusei("basicStrategyText"), plan.mtp_basic_strategy, ("plan", "mtp_basic_strategy"))
    e.paragraphs(node, t.kusei("measuresIntro"), plan.measures_intro, ("plan", "measures_intro"))

    _map_goal(cx)
    banner_nodes = [_map_banner(cx, banner, order, ("plan", "banners", order - 1))
                    for order, banner in enumerate(plan.banners, start=1)]
    measure_nodes: dict[str, ox.NamedNode] = {}
    for order, measure in enumerate(plan.measures, start=1):
        key = measure_segment(measure, order)
        measure_nodes[key] = _map_measure(cx, measure, order, key, ("plan", "measures", order - 1))
    for order, item in enumerate(plan.operation, start=1):
        _map_operation(cx, item, order, ("plan", "operation", order - 1))
    for order, column in enumerate(plan.columns, start=1):
        _map_column(cx, column, order, measure_nodes, banner_nodes, ("plan", "columns", order - 1))


def _component(cx: Context, node: ox.NamedNode, cls: str, parent: ox.NamedNode, order: int | None) -> None:
    cx.emit.typed_entity(node, cx.terms.kusei(cls))
    cx.emit.kusei(node, "plan", cx.plan)
    cx.emit.part_of(node, parent)
    if order is not None:
        cx.emit.position(node, order)


def _label_from(cx: Context, node: ox.NamedNode, *candidates: Text | None) -> None:
    for candidate in candidates:
        if candidate is not None:
            cx.emit.label(node, printed(candidate))
            return


def map_items(cx: Context, parent: ox.NamedNode, items: list[Item], path: tuple) -> None:
    for order, item in enumerate(items, start=1):
        node = iri(parent, "item", order)
        _component(cx, node, "ActionItem", parent, order)
        cx.emit.kusei(node, "itemOf", parent)
        if isinstance(item, TitledItem):
            # Printed as "title ～ description": the title names the item, the rest describes it.
            cx.emit.text(node, TITLE, item.title, (*path, order - 1, "title"))
            cx.emit.label(node, printed(item.title))
            cx.emit.text(node, DESCRIPTION, item.description, (*path, order - 1, "description"))
        else:
            cx.emit.text(node, ox.NamedNode(RDFS + "label"), item, (*path, order - 1))


def _captions(cx: Context, node: ox.NamedNode, captions: list[Text], path: tuple) -> None:
    for index, caption in enumerate(captions):
        cx.emit.text(node, cx.terms.kusei("caption"), caption, (*path, index))


def _map_goal(cx: Context) -> None:
    goal, e, t = cx.record.plan.basic_goal, cx.emit, cx.terms
    node = iri(cx.plan, "goal")
    _component(cx, node, "BasicGoal", cx.plan, None)
    e.kusei(cx.plan, "basicGoal", node)
    path = ("plan", "basic_goal")
    e.text(node, TITLE, goal.title, (*path, "title"))
    e.label(node, printed(goal.title))
    e.text(node, t.kusei("tagline"), goal.subtitle, (*path, "subtitle"))
    e.paragraphs(node, DESCRIPTION, goal.statements, (*path, "statements"))
    _captions(cx, node, goal.captions, (*path, "captions"))


def _map_banner(cx: Context, banner: Banner, order: int, path: tuple) -> ox.NamedNode:
    """A theme put up above the measures: its own kind, so it is neither shown nor counted as a
    measure, and the projects printed under it hang off it."""
    e, t = cx.emit, cx.terms
    node = iri(cx.plan, "banner", order)
    _component(cx, node, "Banner", cx.plan, order)
    e.text(node, TITLE, banner.title, (*path, "title"))
    e.label(node, printed(banner.title))
    e.paragraphs(node, DESCRIPTION, banner.description, (*path, "description"))
    _captions(cx, node, banner.captions, (*path, "captions"))
    for area in banner.policy_areas:
        e.interpret(node, "policyArea", t.id(f"policy-area/{area}"))
    for order_p, project in enumerate(banner.projects, start=1):
        _map_project(cx, project, node, "banner", order_p, (*path, "projects", order_p - 1))
    return node


def _map_measure(cx: Context, measure: Measure, order: int, key: str, path: tuple) -> ox.NamedNode:
    e, t = cx.emit, cx.terms
    node = iri(cx.plan, "measure", key)
    _component(cx, node, "Measure", cx.plan, order)
    if measure.number is not None:
        _number(e, node, measure.number)
    e.text(node, TITLE, measure.title, (*path, "title"))
    e.label(node, printed(measure.title))
    e.text(node, t.kusei("tagline"), measure.tagline, (*path, "tagline"))
    e.text(node, t.kusei("group"), measure.group, (*path, "group"), own_lines=False)
    e.paragraphs(node, DESCRIPTION, measure.description, (*path, "description"))
    _captions(cx, node, measure.captions, (*path, "captions"))
    map_items(cx, node, measure.items, (*path, "items"))
    for index, citation in enumerate(measure.mtp_basic_strategy):
        e.kusei(node, "citesPerspective", t.mtp(f"basic-strategy/{citation.ref}"))
        e.text(node, t.kusei("mtpReferenceText"), citation.printed,
               (*path, "mtp_basic_strategy", index, "printed"))
    for area in measure.policy_areas:
        e.interpret(node, "policyArea", t.id(f"policy-area/{area}"))
    for order_p, project in enumerate(measure.projects, start=1):
        _map_project(cx, project, node, "measure", order_p, (*path, "projects", order_p - 1))
    return node


def _map_project(cx: Context, project: Project, parent: ox.NamedNode, link: str, order: int,
                 path: tuple) -> None:
    """A project under ``parent``, a measure or a banner, which ``link`` (kusei:measure or
    kusei:banner) names."""
    e, t = cx.emit, cx.terms
    node = iri(parent, "project", order)
    _component(cx, node, "Project", parent, order)
    e.kusei(node, link, parent)
    e.text(node, TITLE, project.title, (*path, "title"))
    e.label(node, printed(project.title))
    if project.marker:
        e.kusei(node, "marker", typed(project.marker, "string"))
    e.paragraphs(node, DESCRIPTION, project.description, (*path, "description"))
    _captions(cx, node, project.captions, (*path, "captions"))
    map_items(cx, node, project.items, (*path, "items"))
    if project.mtp is not None:
        ref = project.mtp
        e.text(node, t.kusei("mtpReferenceText"), ref.printed, (*path, "mtp", "printed"))
        if ref.theme:
            e.kusei(node, "mtpTheme", t.mtp(f"theme/{ref.theme}"))
        if ref.strategy:
            e.kusei(node, "mtpStrategy", t.mtp(f"strategy/{ref.strategy}"))
        for policy in ref.policies:
            e.kusei(node, "mtpPolicy", t.mtp(f"policy/{policy}"))
    for goal in project.sdgs:
        e.interpret(node, "sdg", ox.NamedNode(f"{SDG}{goal}"))


def _map_operation(cx: Context, item: OperationItem, order: int, path: tuple) -> None:
    e, t = cx.emit, cx.terms
    node = iri(cx.plan, "operation", order)
    _component(cx, node, "OperationItem", cx.plan, order)
    e.text(node, t.kusei("group"), item.group, (*path, "group"), own_lines=False)
    if item.number is not None:
        _number(e, node, item.number)
    e.text(node, TITLE, item.title, (*path, "title"))
    e.paragraphs(node, DESCRIPTION, item.description, (*path, "description"))
    map_items(cx, node, item.items, (*path, "items"))
    first_item = item.items[0] if item.items else None
    first_text = item.description[0] if item.description else (
        first_item.title if isinstance(first_item, TitledItem) else first_item)
    _label_from(cx, node, item.title, first_text, item.group)


def _map_column(cx: Context, column: Column, order: int, measures: dict[str, ox.NamedNode],
                banners: list[ox.NamedNode], path: tuple) -> None:
    e = cx.emit
    node = iri(cx.plan, "column", order)
    _component(cx, node, "Column", cx.plan, order)
    if column.measure is not None and column.banner is not None:
        cx.fail((*path, "banner"), "a column is printed under a measure or a banner, not both")
    if column.banner is not None:
        if column.banner > len(banners):
            cx.fail((*path, "banner"), f"no banner {column.banner} in this plan ({len(banners)} banners)")
        e.kusei(node, "banner", banners[column.banner - 1])
    if column.measure is not None:
        key = measure_key(column.measure)
        if key not in measures:
            cx.fail((*path, "measure"), f"no measure {column.measure!r} in this plan")
        e.kusei(node, "measure", measures[key])
    e.text(node, TITLE, column.title, (*path, "title"))
    e.label(node, printed(column.title))
    e.paragraphs(node, DESCRIPTION, column.description, (*path, "description"))
    _captions(cx, node, column.captions, (*path, "captions"))
    map_items(cx, node, column.items, (*path, "items"))
