"""Across years: the same measure, project or goal in plans of one ward for different years.

An interpretation (graph /graph/interpretation): ``<later> kusei:continues <earlier>``, and a
``kusei:Continuation`` node ``<later>#continues-<earlier path>`` with the evidence. The build
matches components of the same class by title; reference/continuations.yaml adds the pairs whose
titles differ, with the similarity stated. Sections, mascots, the office and online accounts need
no link: their IRIs are the ward's, not a plan's, so both years' documents describe the same node.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
from ruamel.yaml.error import YAMLError

from kusei.graph.input import yamlsafe
from kusei.namespaces import DCTERMS, RDFS, TYPE, Terms, lit

CONTINUATIONS = Path(__file__).resolve().parent.parent / "reference" / "continuations.yaml"
# Components that carry a title of their own and are compared across years.
COMPARED = ("BasicGoal", "Banner", "Measure", "Project", "OperationItem", "Column", "BureauProject",
            "FacilityProject", "InfrastructureProject", "Campaign")
SAME_TITLE = "Same printed title."
SAME_TITLE_JA = "印刷された表題が同じ。"
# Spelling variants the documents use for one word, and the quotation marks they vary between.
VARIANTS = (("皆さま", "皆様"),)
QUOTES = re.compile(r"[「」『』“”\"'‘’]")


def comparable(title: str) -> str:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title))
    for variant, usual in VARIANTS:
        text = text.replace(variant, usual)
    return QUOTES.sub("", text)


def _titles(quads: list[ox.Quad], terms: Terms) -> dict[str, dict]:
    """Component IRI → its class, plan and printed title, from the document graphs."""
    title_p, plan_p = ox.NamedNode(DCTERMS + "title"), terms.kusei("plan")
    label_p = ox.NamedNode(RDFS + "label")
    found: dict[str, dict] = defaultdict(dict)
    compared = {terms.kusei(c).value: c for c in COMPARED}
    for q in quads:
        if not isinstance(q.subject, ox.NamedNode) or isinstance(q.object, ox.Triple):
            continue
        subject, value = q.subject.value, q.object.value
        if q.predicate == TYPE and value in compared:
            found[subject].setdefault("classes", set()).add(compared[value])
        elif q.predicate == plan_p:
            found[subject]["plan"] = value
        elif q.predicate == title_p or (q.predicate == label_p and getattr(q.object, "language", None) == "ja"):
            found[subject].setdefault("title", value)
    return {s: v for s, v in found.items() if "classes" in v and "plan" in v and "title" in v}


def _ward_year(plan: str) -> tuple[str, int]:
    ward, year = plan.rstrip("/").rsplit("/", 2)[-2:]
    return ward, int(year)


def continuation_quads(quads: list[ox.Quad], terms: Terms, graph: ox.NamedNode,
                       stated: Path = CONTINUATIONS) -> list[ox.Quad]:
    components = _titles(quads, terms)
    # (earlier, later) → the evidence in English and in Japanese
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    by_key: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for iri, info in components.items():
        ward, _ = _ward_year(info["plan"])
        for cls in info["classes"]:
            by_key[(ward, cls, comparable(info["title"]))].append(iri)
    for members in by_key.values():
        ordered = sorted(members, key=lambda m: _ward_year(components[m]["plan"])[1])
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if _ward_year(components[earlier]["plan"])[1] < _ward_year(components[later]["plan"])[1]:
                same = components[earlier]["title"] == components[later]["title"]
                both = f"「{components[earlier]['title']}」 / 「{components[later]['title']}」"
                pairs[(earlier, later)] = (SAME_TITLE, SAME_TITLE_JA) if same else (
                    "Same title once width, spacing, quotation marks and the spelling of 皆さま/様 are set aside: "
                    f"{both}.",
                    f"文字の幅・空白・かぎかっこ・「皆さま/様」の表記の違いを除けば同じ表題:{both}。")
    # A print that adds a subtitle to the same title (金沢防災“えん”づくり事業 一顔の見える防災の輪—).
    matched = {m for pair in pairs for m in pair}
    for (ward, cls, key), members in sorted(by_key.items()):
        for (ward2, cls2, key2), others in sorted(by_key.items()):
            if (ward2, cls2) != (ward, cls) or key2 == key or len(key2) < 6 or not key.startswith(key2):
                continue
            for a in members:
                for b in others:
                    years = (_ward_year(components[a]["plan"])[1], _ward_year(components[b]["plan"])[1])
                    if years[0] == years[1] or a in matched or b in matched:
                        continue
                    earlier, later = (a, b) if years[0] < years[1] else (b, a)
                    both = f"「{components[earlier]['title']}」 / 「{components[later]['title']}」"
                    pairs[(earlier, later)] = (f"Same title, one print adding a subtitle: {both}.",
                                               f"同じ表題で、一方の印刷が副題を加えている:{both}。")
                    matched |= {a, b}
    try:
        entries = yamlsafe.load(stated, typ="safe") or []
    except (yamlsafe.UnsafeYAML, YAMLError) as exc:
        raise ValueError(f"{stated.name}: {exc}") from exc
    for entry in entries:
        earlier, later = (terms.id(entry[k]).value for k in ("earlier", "later"))
        if not all(any(iri.startswith(info["plan"] + "/") for info in components.values()) for iri in (earlier, later)):
            continue  # a plan this build does not include (a build of some of the records)
        for iri in (earlier, later):
            if iri not in components:
                raise ValueError(f"{stated.name}: no titled plan component {iri}")
        pairs[(earlier, later)] = (" ".join(entry["reason"].split()), " ".join(entry["reason_ja"].split()))

    out = []
    for (earlier, later), evidence in sorted(pairs.items()):
        early, late = ox.NamedNode(earlier), ox.NamedNode(later)
        node = ox.NamedNode(f"{later}#continues-{earlier.removeprefix(terms.ids).replace('/', '-')}")
        out += [
            ox.Quad(late, terms.kusei("continues"), early, graph),
            ox.Quad(node, TYPE, terms.kusei("Continuation"), graph),
            ox.Quad(node, terms.kusei("earlier"), early, graph),
            ox.Quad(node, terms.kusei("later"), late, graph),
            ox.Quad(node, terms.kusei("evidence"), lit(evidence[0], "en"), graph),
            ox.Quad(node, terms.kusei("evidence"), lit(evidence[1], "ja"), graph),
        ]
    return out
