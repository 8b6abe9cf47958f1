"""Search over the release's index (graph/publish/search.py writes it; this reads it).

Every query term must occur, folded, in an entry's titles or texts, or in their readings (the
build reads kanji with a dictionary, so ぼうさい finds 防災; nothing is analysed per request).
Ranking: the whole query equal to a title, then a title starting with it, then terms found in
titles, then terms found only in descriptions; ties go to plans, measures and projects before
other things, then to shorter titles. Facets (type, ward, fiscal year, policy area) count the
results before they are narrowed by that facet; when nothing is found, a shorter query that
finds something is suggested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

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
class FacetValue:
    key: str  # the value in the URL (type local name, ward code, year, area IRI)
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str  # the URL parameter
    title_ja: str
    title_en: str
    values: list[FacetValue]


@dataclass
class Suggestion:
    query: str
    count: int


@dataclass
class Results:
    query: str
    terms: list[str]
    total: int
    hits: list[Hit] = field(default_factory=list)
    available: bool = True  # False: the release was built before search existed
    facets: list[Facet] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)
    suggestion: Suggestion | None = None


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


@lru_cache(maxsize=8192)
def _folded_map(text: str) -> tuple[str, list[int]]:
    # The index holds a few thousand texts; folding one with its map is the costly step of a
    # hit, and the same texts come back search after search.
    return fold_with_map(text)


def _spans(text: str, terms: list[str], read: list | None) -> list[tuple[int, int]]:
    """Where in ``text`` the terms occur: in its folded form, or in its reading mapped back to
    the words it was read from."""
    folded, origins = _folded_map(text)
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
    if read:
        reading, words = read
        for term in terms:
            start = reading.find(term)
            while start >= 0:
                end = start + len(term)
                first = max(i for i, (r, _) in enumerate(words) if r <= start)
                last_word = max(i for i, (r, _) in enumerate(words) if r < end)
                stop = words[last_word + 1][1] if last_word + 1 < len(words) else len(text)
                spans.append((words[first][1], stop))
                start = reading.find(term, end)
    return spans


def _snippet(text: str, terms: list[str], read: list | None = None) -> list[Segment]:
    """A window of ``text`` around the first hit, with every hit of every term marked."""
    spans = sorted(_spans(text, terms, read))
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


def _found(term: str, folded: list[str], read: list) -> bool:
    return any(term in t for t in folded) or any(r is not None and term in r[0] for r in read)


def _match(entry: dict, terms: list[str], whole: str) -> tuple[int, bool] | None:
    """(score, every term in a title) when every term occurs in the entry, else None."""
    titles, read_titles = entry["fold_titles"], entry.get("read_titles", [])
    texts = entry["fold_texts"] + entry.get("fold_printed", [])
    read_texts = entry.get("read_texts", [])
    score, in_title = 0, True
    for term in terms:
        if _found(term, titles, read_titles):
            score += 10
        elif _found(term, texts, read_texts):
            # The printed form of a corrected slip is found too (people may search as printed).
            score += 1
            in_title = False
        else:
            return None
    if any(t == whole for t in titles) or any(r is not None and r[0] == whole for r in read_titles):
        score += 100
    elif any(t.startswith(whole) for t in titles) or any(r is not None and r[0].startswith(whole) for r in read_titles):
        score += 50
    return score, in_title


def _facet_keys(entry: dict) -> dict[str, list[str]]:
    return {
        "type": [entry["type"].rsplit("/", 1)[-1]] if entry.get("type") else [],
        "ward": [entry["ward"]] if entry.get("ward") else [],
        "year": [str(entry["year"])] if entry.get("year") else [],
        "area": list(entry.get("areas", [])),
    }


FACETS = (("type", "種類", "Type"), ("ward", "区", "Ward"), ("year", "年度", "Fiscal year"),
          ("area", "政策分野", "Policy area"))


def _facets(matched: list[dict], filters: dict[str, str], labels: dict[str, dict[str, str]]) -> list[Facet]:
    facets = []
    for name, title_ja, title_en in FACETS:
        # Counted over the results narrowed by the other facets only, so every value shown
        # can be chosen instead of the one selected.
        others = {k: v for k, v in filters.items() if k != name}
        counts: dict[str, int] = {}
        for entry in matched:
            keys = _facet_keys(entry)
            if all(v in keys[k] for k, v in others.items()):
                for key in keys[name]:
                    counts[key] = counts.get(key, 0) + 1
        values = [FacetValue(key, labels.get(name, {}).get(key, key), n, filters.get(name) == key)
                  for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        if values:
            facets.append(Facet(name, title_ja, title_en, values))
    return facets


def _suggest(entries: list[dict], terms: list[str]) -> Suggestion | None:
    """A shorter query that finds something: one of several terms, else the longest head of one."""
    candidates = list(terms) if len(terms) > 1 else []
    for term in terms:
        candidates += [term[:n] for n in range(len(term) - 1, 1, -1)]
    for candidate in candidates:
        count = sum(1 for e in entries if _match(e, [candidate], candidate) is not None)
        if count:
            return Suggestion(candidate, count)
    return None


def search(release: Release, namer: Namer, term_labels: Labels, query: str, limit: int = 50,
           filters: dict[str, str] | None = None, facet_labels: dict[str, dict[str, str]] | None = None) -> Results:
    terms = query_terms(query)
    filters = {k: v for k, v in (filters or {}).items() if v and k in dict((f[0], f) for f in FACETS)}
    entries = load_index(release)
    if entries is None:
        return Results(query, terms, 0, available=False)
    if not terms:
        return Results(query, terms, 0, filters=filters)
    whole = "".join(terms)
    matched: list[tuple[tuple, dict, int, bool]] = []
    for entry in entries:
        found = _match(entry, terms, whole)
        if found is None:
            continue
        score, in_title = found
        title = entry["title"] or ""
        key = (-score, _type_rank(entry["type"]), len(title), entry["iri"])
        matched.append((key, entry, score, in_title))
    labels = dict(facet_labels or {})
    labels["type"] = {e["type"].rsplit("/", 1)[-1]: term_labels.get(e["type"], "ja") or e["type"].rsplit("/", 1)[-1]
                      for _, e, _, _ in matched if e.get("type")}
    facets = _facets([e for _, e, _, _ in matched], filters, labels)
    scored = [m for m in matched if all(v in _facet_keys(m[1])[k] for k, v in filters.items())]
    scored.sort(key=lambda item: item[0])
    hits = []
    for _, entry, score, in_title in scored[:limit]:
        hits.append(_hit(entry, terms, namer, term_labels, score, in_title))
    suggestion = _suggest(entries, terms) if not matched else None
    return Results(query, terms, len(scored), hits, facets=facets, filters=filters, suggestion=suggestion)


def _hit(entry: dict, terms: list[str], namer: Namer, term_labels: Labels, score: int, in_title: bool) -> Hit:
    # The snippet is a text where a term occurs; when only the title matched, it is the start
    # of the entry's first text (the title is shown, marked, above it), not the title again.
    texts = entry["texts"]
    read_texts = entry.get("read_texts") or [None] * len(texts)
    snippet: list[Segment] = []
    # The prefolded forms pick the text; only that one is folded again, to map the hit back.
    for text, folded, read in zip(texts, entry["fold_texts"], read_texts, strict=False):
        if any(term in folded or (read is not None and term in read[0]) for term in terms):
            snippet = _snippet(text, terms, read)
            break
    else:
        if texts:
            snippet = _snippet(texts[0], [], None)
    title = entry["title"] or ""
    read_title = next((r for t, r in zip(entry["titles"], entry.get("read_titles", []), strict=False)
                       if t == title), None)
    type_iri = entry["type"]
    return Hit(
        iri=entry["iri"],
        href=namer.href(entry["iri"]),
        title=title,
        type_iri=type_iri,
        type_ja=term_labels.get(type_iri, "ja") if type_iri else None,
        type_en=term_labels.get(type_iri, "en") if type_iri else None,
        plan_href=namer.href(entry["plan"]) if entry["plan"] and entry["plan"] != entry["iri"] else None,
        plan_title=entry["plan_title"] if entry["plan"] != entry["iri"] else None,
        snippet=snippet,
        title_segments=_snippet(title, terms, read_title) if len(title) <= SNIPPET_LENGTH else _snippet(title, terms),
        score=score,
        in_title=in_title,
    )
