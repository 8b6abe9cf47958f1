"""What the query editor offers while one types: prefixes, vocabulary terms and resources by label.

Answered from the release's completion index (kusei.completion_index, written by the build), read
once per release and process into lists scanned in memory: the index holds a few hundred terms
and, for 18 wards × 10 years, some thousands of resources, so a scan is well under a millisecond
per thousand entries and needs no store query.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kusei.completion_index import INDEX_FILE, INDEX_VERSION
from kusei.release import Release
from kusei.search_index import fold

KINDS = ("prefix", "class", "property", "term", "resource")
LIMIT = 20
_LOCAL = re.compile(r"[A-Za-z_][\w.-]*|")


@dataclass(frozen=True)
class Term:
    iri: str
    kind: str  # "class" or "property"
    uses: int
    ja: str | None
    en: str | None
    prefix: str | None  # of a pre-declared namespace, if one holds the IRI
    local: str | None
    folded: str  # the labels and the local name, folded for matching

    @property
    def curie(self) -> str | None:
        return f"{self.prefix}:{self.local}" if self.prefix is not None else None


@dataclass(frozen=True)
class Resource:
    iri: str
    type: str
    ja: str | None
    en: str | None
    folded: str


@dataclass(frozen=True)
class Index:
    prefixes: dict[str, str]
    terms: list[Term]  # most used first
    resources: list[Resource]  # wards first, then shorter labels


def _split(iri: str, prefixes: dict[str, str]) -> tuple[str | None, str | None]:
    for prefix, namespace in sorted(prefixes.items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace):]
        if iri.startswith(namespace) and _LOCAL.fullmatch(local) and not local.endswith("."):
            return prefix, local
    return None, None


def load(release: Release, prefixes: dict[str, str]) -> Index:
    """The release's index (empty when the release has none: it was built before the index existed)."""
    def compute() -> Index:
        path = release.path / INDEX_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Index(prefixes, [], [])
        return from_raw(raw, prefixes)

    return release.memo("completion-index", compute)


def from_raw(raw: dict, prefixes: dict[str, str]) -> Index:
    """The index from the file's JSON (empty if it is of another version)."""
    if raw.get("version") != INDEX_VERSION:
        return Index(prefixes, [], [])
    terms = []
    for t in raw["terms"]:
        prefix, local = _split(t["iri"], prefixes)
        words = " ".join(x for x in (t.get("ja"), t.get("en"), local) if x)
        terms.append(Term(t["iri"], t["kind"], t["uses"], t.get("ja"), t.get("en"), prefix, local, fold(words)))
    resources = [Resource(r["iri"], r["type"], r.get("ja"), r.get("en"), r["fold"]) for r in raw["resources"]]
    return Index(prefixes, terms, resources)


def _prefix_items(index: Index, text: str) -> list[dict]:
    typed = text.rstrip(":").lower()
    return [{"label": f"{p}:", "kind": "prefix", "iri": ns, "detail": ns}
            for p, ns in sorted(index.prefixes.items()) if p.lower().startswith(typed)]


def _term_items(index: Index, text: str, kinds: tuple[str, ...]) -> list[dict]:
    prefix, _, local = text.rpartition(":") if ":" in text else ("", "", text)
    wanted = fold(local)
    found = []
    for term in index.terms:
        if term.kind not in kinds:
            continue
        if ":" in text:
            # "kusei:Mea" matches the local names of that namespace; "kusei:施策" its labels.
            if term.prefix != prefix or not (
                    (term.local or "").lower().startswith(local.lower()) or (wanted and wanted in term.folded)):
                continue
        elif wanted and wanted not in term.folded:
            continue
        found.append({"label": term.curie or f"<{term.iri}>", "kind": term.kind, "iri": term.iri,
                      "ja": term.ja, "en": term.en, "uses": term.uses, "prefix": term.prefix,
                      "namespace": index.prefixes.get(term.prefix or "")})
        if len(found) >= LIMIT:
            break
    return found


def _resource_items(index: Index, text: str) -> list[dict]:
    wanted = fold(text)
    if not wanted:
        return []
    starts: list[Resource] = []
    inside: list[Resource] = []
    for resource in index.resources:
        if wanted in resource.folded:
            (starts if resource.folded.startswith(wanted) else inside).append(resource)
            if len(starts) >= LIMIT:
                break
    return [{"label": r.ja or r.en, "kind": "resource", "iri": r.iri, "type": r.type, "ja": r.ja, "en": r.en}
            for r in (starts + inside)[:LIMIT]]


def complete(index: Index, text: str, kind: str) -> list[dict]:
    """At most :data:`LIMIT` completions of ``text`` of ``kind`` (one of :data:`KINDS`)."""
    text = text.strip()
    if kind == "prefix":
        return _prefix_items(index, text)
    if kind == "resource":
        return _resource_items(index, text)
    kinds = ("class", "property") if kind == "term" else (kind,)
    return _term_items(index, text, kinds)
