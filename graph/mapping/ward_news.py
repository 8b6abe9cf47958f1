"""Mapping of what a document says about the ward beyond the plan: population, ward symbols,
city-bureau projects, facility and infrastructure projects, campaigns and notices."""

from __future__ import annotations

import pyoxigraph as ox

from kusei.graph.input.record import Text, printed
from kusei.graph.mapping.context import Context
from kusei.graph.mapping.plan import map_items
from kusei.namespaces import DCTERMS, QB, SCHEMA, SDMX_DIM, iri, typed

TITLE = ox.NamedNode(DCTERMS + "title")
DESCRIPTION = ox.NamedNode(DCTERMS + "description")


def map_population(cx: Context) -> None:
    pop = cx.record.population
    if pop is None:
        return
    e, t = cx.emit, cx.terms
    path = ("population",)
    node = t.id(f"observation/{cx.ward}/{pop.as_of.isoformat()}")
    e.typed_entity(node, t.kusei("PopulationObservation"), ox.NamedNode(QB + "Observation"))
    e.add(node, ox.NamedNode(QB + "dataSet"), t.id("dataset/population"))
    e.add(node, ox.NamedNode(SDMX_DIM + "refArea"), cx.ward_area)
    e.add(node, ox.NamedNode(SDMX_DIM + "refPeriod"), typed(pop.as_of.isoformat(), "date"))
    e.kusei(node, "population", typed(pop.population, "integer"))
    e.text(node, t.kusei("asOfPrinted"), pop.as_of_printed, (*path, "as_of_printed"))
    e.text(node, t.kusei("populationPrinted"), pop.population_printed, (*path, "population_printed"))
    if pop.households is not None:
        e.kusei(node, "households", typed(pop.households, "integer"))
    e.text(node, t.kusei("householdsPrinted"), pop.households_printed, (*path, "households_printed"))
    e.label(node, f"{cx.ward_name} 人口・世帯数 {pop.as_of.isoformat()}")
    e.label(node, f"{cx.ward_en} population and households, {pop.as_of.isoformat()}", "en")


def map_ward_symbols(cx: Context) -> None:
    symbols = cx.record.ward_symbols
    if symbols is None:
        return
    e, t = cx.emit, cx.terms
    # The printed line ("区の花：ウメ") is checked by verify; the value is the name alone.
    e.text(cx.ward_area, t.kusei("wardFlower"), symbols.flower, ("ward_symbols", "flower"))
    e.text(cx.ward_area, t.kusei("wardTree"), symbols.tree, ("ward_symbols", "tree"))


def _titled(cx: Context, node: ox.NamedNode, cls: str, order: int, title: Text, path: tuple) -> None:
    e = cx.emit
    e.typed_entity(node, cx.terms.kusei(cls))
    e.kusei(node, "plan", cx.plan)
    e.part_of(node, cx.plan)
    e.position(node, order)
    e.text(node, TITLE, title, (*path, "title"))
    e.label(node, printed(title))


def map_bureau_projects(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    for order, project in enumerate(cx.record.bureau_projects, start=1):
        path = ("bureau_projects", order - 1)
        node = iri(cx.plan, "bureau-project", order)
        _titled(cx, node, "BureauProject", order, project.title, path)
        e.text(node, DESCRIPTION, project.content, (*path, "content"))
        e.text(node, t.kusei("responsibleBureauPrinted"), project.bureaus_printed, (*path, "bureaus_printed"))
        e.add(node, ox.NamedNode(DCTERMS + "spatial"), cx.ward_area)
        for index, key in enumerate(project.bureaus):
            if key not in cx.bureau_keys:
                cx.fail((*path, "bureaus", index), f"unknown bureau {key!r} (see reference/bureaus.yaml)")
            e.kusei(node, "responsibleBureau", t.bureau(cx.city_code, key))


def map_facility_projects(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    for order, project in enumerate(cx.record.facility_projects, start=1):
        path = ("facility_projects", order - 1)
        node = iri(cx.plan, "facility-project", order)
        _titled(cx, node, "FacilityProject", order, project.title, path)
        if project.kind == "infrastructure":
            # The superclass is stated too, so ?x a kusei:FacilityProject needs no inference.
            e.typed_entity(node, cx.terms.kusei("InfrastructureProject"))
        e.paragraphs(node, DESCRIPTION, project.description, (*path, "description"))
        for index, caption in enumerate(project.captions):
            e.text(node, t.kusei("caption"), caption, (*path, "captions", index))
        e.add(node, ox.NamedNode(DCTERMS + "spatial"), cx.ward_area)


def map_campaigns(cx: Context) -> None:
    e = cx.emit
    for order, campaign in enumerate(cx.record.campaigns, start=1):
        path = ("campaigns", order - 1)
        node = iri(cx.plan, "campaign", order)
        _titled(cx, node, "Campaign", order, campaign.title, path)
        e.add(node, ox.NamedNode(SCHEMA + "organizer"), cx.office)
        e.paragraphs(node, DESCRIPTION, campaign.description, (*path, "description"))
        map_items(cx, node, campaign.items, (*path, "items"))


def map_notices(cx: Context) -> None:
    e = cx.emit
    for order, notice in enumerate(cx.record.notices, start=1):
        path = ("notices", order - 1)
        node = iri(cx.plan, "notice", order)
        _titled(cx, node, "Notice", order, notice.title, path)
        e.paragraphs(node, DESCRIPTION, notice.description, (*path, "description"))
