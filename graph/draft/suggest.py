"""Suggestions for the fields only a person decides, taken from the reference tables.

Policy areas by the words of graph/reference/policy_areas.yaml found in a measure's text; bureau
keys, section-type keys and Medium-Term Plan perspectives by their printed names. A suggestion is
written with a TODO beside it: it is a starting point, never a decision.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from kusei.graph.input.verify import GRAPH_DIR

REFERENCE_DIR = GRAPH_DIR / "reference"
_WORD_SPLIT = re.compile(r"[、。・,，．.（）()「」\s/／：:×、]+")


@functools.cache
def _table(name: str, directory: Path = REFERENCE_DIR) -> Any:
    return YAML(typ="safe", pure=True).load((directory / name).read_text(encoding="utf-8"))


def _words(*texts: str) -> list[str]:
    words: list[str] = []
    for text in texts:
        for word in _WORD_SPLIT.split(text or ""):
            # Drop the particles and endings that join the words of a definition.
            for piece in re.split(r"から|まで|への|との|など|の|と|や|を|に|へ|支援|推進", word):
                if len(piece) >= 2 and piece not in words:
                    words.append(piece)
    return words


@functools.cache
def _area_words() -> dict[str, list[str]]:
    return {area["key"]: _words(area["ja"], area.get("def_ja", "")) for area in _table("policy_areas.yaml")["areas"]}


def policy_areas(text: str, limit: int = 3) -> list[str]:
    """Keys of the policy areas whose words the text uses most (at least one word)."""
    scores = []
    for order, (key, words) in enumerate(_area_words().items()):
        score = sum(text.count(word) for word in words)
        if score:
            scores.append((-score, order, key))
    return [key for _, _, key in sorted(scores)[:limit]]


def bureaus(printed: str) -> list[str]:
    """Bureau keys named in a printed cell (建築局, 環境創造局・道路局 …)."""
    found: list[tuple[int, str]] = []
    for bureau in _table("bureaus.yaml")["bureaus"]:
        if bureau["name"] in printed:
            found.append((printed.index(bureau["name"]), bureau["key"]))
    return [key for _, key in sorted(found)]


def section_type(name: str) -> str | None:
    """The section-type key whose name the printed name ends with or starts with."""
    best = None
    for kind in _table("section_types.yaml")["types"]:
        type_name = kind["name"]
        if name == type_name or name.endswith(type_name) or name.startswith(type_name):
            if best is None or len(type_name) > len(best[1]):
                best = (kind["key"], type_name)
    if best is None:
        # A variant spelling (子ども家庭支援課 for こども家庭支援課): the longest shared ending of
        # at least four characters.
        for kind in _table("section_types.yaml")["types"]:
            shared = _shared_ending(name, kind["name"])
            if shared >= 4 and (best is None or shared > len(best[1])):
                best = (kind["key"], kind["name"][-shared:])
    return best[0] if best else None


def _shared_ending(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def perspective(printed: str) -> str | None:
    """The Medium-Term Plan basic-strategy perspective a printed text names (by its name's start)."""
    squashed = re.sub(r"\s+", "", printed)
    for item in _table("mtp.yaml").get("perspectives", []):
        if squashed.startswith(re.sub(r"\s+", "", item["name"])):
            return str(item["key"])
    return None


def mtp_reference(printed: str) -> dict[str, Any]:
    """A Medium-Term Plan reference as printed (中期計画:テーマ03 戦略5 政策26), with its parts."""
    ref: dict[str, Any] = {"printed": printed}
    if theme := re.search(r"テーマ\s*([0-9０-９]{1,2})", printed):
        ref["theme"] = f"{int(theme.group(1)):02d}"
    if strategy := re.search(r"戦略\s*([0-9０-９])", printed):
        ref["strategy"] = int(strategy.group(1))
    if policies := re.search(r"政策\s*([0-9０-９・,、]+)", printed):
        ref["policies"] = [int(p) for p in re.split(r"[・,、]", policies.group(1)) if p]
    return ref


def ward_name(code: str) -> str | None:
    for ward in _table("wards.yaml")["wards"]:
        if ward["code"] == code:
            return str(ward["name"])
    return None


def ward_named(text: str) -> str | None:
    """The code of the ward the text names most often (None when it names none)."""
    counts = []
    # Longer names first, each taken out once counted: 南区 inside 港南区 is not 南区.
    for ward in sorted(_table("wards.yaml")["wards"], key=lambda w: -len(w["name"])):
        n = text.count(ward["name"])
        if n:
            counts.append((-n, ward["code"]))
            text = text.replace(ward["name"], "\0")
    return min(counts)[1] if counts else None
