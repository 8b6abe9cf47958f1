"""Search over the release's index (graph/publish/search.py writes it; this reads it).

Every query term must occur, folded, in an entry's titles or texts. Ranking: the whole query
equal to a title, then a title starting with it, then terms found in titles, then terms found
only in descriptions; ties go to plans, measures and projects before other things, then to
shorter titles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kusei.endpoint.web.pages.terms import Labels, Namer
from kusei.release import Release
from kusei.search_index import INDEX_FILE, INDEX_VERSION, fold, fold_with_map

SNIPPET_BEFORE = 30
SNIPPET_LENGTH = 110
MAX_TERMS = 8
TYPE_ORDER = ("Plan", "Measure", "Project", "BasicGoal", "Mascot", "Ward", "WardOffice", "BureauProject")


@dataclass
class Segment:
    text: str
    hit: bool


@dataclass
class Hit:
    iri: str
    href: str | None
    title: str
    type_iri: str | None
    type_ja: str | None
    type_en: str | None
    plan_href: str | None
    plan_title: str | None
    snippet: list[Segment]
    title_segments: list[Segment]
    score: int
    in_title: bool

    def as_json(self) -> dict:
        return {
            "iri": self.iri,
            "href": self.href,
            "title": self.title,
            "type": self.type_iri,
            "type_ja": self.type_ja,
            "type_en": self.type_en,
            "plan": {"href": self.plan_href, "title": self.plan_title} if self.plan_href else None,
            "snippet": "".join(s.text for s in self.snippet),
            "highlights": [s.text for s in self.snippet if s.hit],
            "score": self.score,
            "matched": "title" if self.in_title else "text",
        }


@dataclass
class Results:
    query: str
    terms: list[str]
    total: int
    hits: list[Hit] = field(default_factory=list)
    available: bool = True  # False: the release was built before search existed


def load_index(release: Release) -> list[dict] | None:
    def compute() -> list[dict] | None:
        path = release.path / INDEX_FILE
        if not path.is_file():
            return None
        index = json.loads(path.read_text(encoding="utf-8"))
        return index["entries"] if index.get("version") == INDEX_VERSION else None

    return release.memo("search-index", compute)


def query_terms(query: str) -> list[str]:
    terms = [fold(part) for part in query.split()]
    return [t for t in dict.fromkeys(terms) if t][:MAX_TERMS]


def _snippet(text: str, terms: list[str]) -> list[Segment]:
    """A window of ``text`` around the first hit, with every hit of every term marked."""
    folded, origins = fold_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            last = origins[end - 1]
            # The span ends after the original unit the last folded character came from.
            stop = next((o for o in origins[end:] if o > last), len(text))
            spans.append((origins[start], stop))
            start = folded.find(term, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    first = merged[0][0] if merged else 0
    window_start = max(0, first - SNIPPET_BEFORE)
    window_end = min(len(text), window_start + SNIPPET_LENGTH)
    segments: list[Segment] = []
    if window_start > 0:
        segments.append(Segment("…", False))
    position = window_start
    for start, end in merged:
        if end <= window_start or start >= window_end:
            continue
        start, end = max(start, window_start), min(end, window_end)
        if start > position:
            segments.append(Segment(text[position:start], False))
        segments.append(Segment(text[start:end], True))
        position = end
    if position < window_end:
        segments.append(Segment(text[position:window_end], False))
    if window_end < len(text):
        segments.append(Segment("…", False))
    return segments


def _type_rank(type_iri: str | None) -> int:
    local = (type_iri or "").rsplit("/", 1)[-1]
    return TYPE_ORDER.index(local) if local in TYPE_ORDER else len(TYPE_ORDER)


def search(release: Release, namer: Namer, term_labels: Labels, query: str, limit: int = 50) -> Results:
    terms = query_terms(query)
    entries = load_index(release)
    if entries is None:
        return Results(query, terms, 0, available=False)
    if not terms:
        return Results(query, terms, 0)
    whole = "".join(terms)
    scored: list[tuple[tuple, dict, int, bool]] = []
    for entry in entries:
        titles = entry["fold_titles"]
        texts = entry["fold_texts"]
        score = 0
        in_title = True
        for term in terms:
            if any(term in t for t in titles):
                score += 10
            elif any(term in t for t in texts) or any(term in t for t in entry.get("fold_printed", ())):
                # The printed form of a corrected slip is found too (people may search as printed).
                score += 1
                in_title = False
            else:
                break
        else:
            if any(t == whole for t in titles):
                score += 100
            elif any(t.startswith(whole) for t in titles):
                score += 50
            title = entry["title"] or ""
            key = (-score, _type_rank(entry["type"]), len(title), entry["iri"])
            scored.append((key, entry, score, in_title))
    scored.sort(key=lambda item: item[0])
    hits = []
    for _, entry, score, in_title in scored[:limit]:
        # The snippet is a text where a term occurs, so a title match still shows context;
        # a title-only match shows the title that matched.
        shown = next((t for t, f in zip(entry["texts"], entry["fold_texts"], strict=True)
                      if any(term in f for term in terms)), None)
        if shown is None:
            shown = next((t for t, f in zip(entry["titles"], entry["fold_titles"], strict=True)
                          if any(term in f for term in terms)), entry["title"] or "")
        type_iri = entry["type"]
        hits.append(Hit(
            iri=entry["iri"],
            href=namer.href(entry["iri"]),
            title=entry["title"],
            type_iri=type_iri,
            type_ja=term_labels.get(type_iri, "ja") if type_iri else None,
            type_en=term_labels.get(type_iri, "en") if type_iri else None,
            plan_href=namer.href(entry["plan"]) if entry["plan"] and entry["plan"] != entry["iri"] else None,
            plan_title=entry["plan_title"] if entry["plan"] != entry["iri"] else None,
            snippet=_snippet(shown, terms),
            title_segments=_snippet(entry["title"] or "", terms),
            score=score,
            in_title=in_title,
        ))
    return Results(query, terms, len(scored), hits)
