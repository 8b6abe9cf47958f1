"""The typographic cues of a printed line: numbering, bullets, headings, captions, tables.

A plan marks its structure with a small set of cues that do not depend on the ward: numbers
(１, 1., (1), ①, 一、), bullets (・ ◆ ● ○ ■ …), chapter numerals (Ⅰ Ⅱ Ⅲ), short lines without a
full stop (headings and picture captions), labels such as 主な取組, and table rows. This module
reads them off one line; ``kusei.graph.draft.draft`` puts the lines together.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kusei.graph.input.textmatch import unmarked

# Markup an extraction adds (markdown headings and list dashes, <p>, bold): not printed text.
_MD_HEADING = re.compile(r"^\s*(#{1,6})\s+")
_MD_BULLET = re.compile(r"^\s*-\s+")
_HTML_P = re.compile(r"</?p>")
_BOLD = re.compile(r"\*\*")

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "Ⅵ": 6, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}
# Bullets that open a project or heading; ・ opens an item (or, directly under a measure's list of
# main projects, a project).
HEAD_BULLETS = "◆◇●○■□◎▶▼▲◯〇"
ITEM_BULLETS = "・･"
NOTE_MARKS = "★☆※"

_CHAPTER = re.compile(r"^(Ⅰ|Ⅱ|Ⅲ|Ⅳ|Ⅴ|Ⅵ|III|II|IV|VI|I|V)[ 　.．、]\s*(\S.*)$")
# A digit number is followed by a separator, or directly by a character that does not continue
# a quantity (年, 月, %, 人 …), so "100年" and "25年度に" are not numbered lines.
_NOT_AFTER_NUMBER = "0-9０-９.．,，、年月日度%％号回人万千億時分歳箇ヶか件期代世区校所階～~\\-－:：/／)）"
_DIGIT = re.compile(rf"^([0-9０-９]{{1,2}})(?:[.．][ 　]*|[ 　]+|(?=[^{_NOT_AFTER_NUMBER}]))(\S.*)$")
# A number after a word naming what it numbers: 施策1, 柱２, 重点施策 3.
_PREFIXED = re.compile(
    r"^(?:施策|柱|重点施策|重点|取組|テーマ|目標)[ 　]*([0-9０-９]{1,2})(?:[.．:：、][ 　]*|[ 　]+)(\S.*)$"
)
_PAREN = re.compile(r"^[（(]([0-9０-９]{1,2})[)）][ 　]*(\S.*)$")
_CIRCLED = re.compile(rf"^([{CIRCLED}])[ 　]*(\S.*)$")
_KANJI = re.compile(r"^([一二三四五六七八九十]{1,2})[、．.　 ][ 　]*(\S.*)$")
_BULLET = re.compile(rf"^([{HEAD_BULLETS}{ITEM_BULLETS}])[ 　]*(\S.*)$")
_NOTE = re.compile(rf"^[{NOTE_MARKS}][ 　]*(\S.*)$")
_CAPTION_BRACKETS = re.compile(r"^[<＜〈]([^<>＜＞〈〉]+)[>＞〉]$")
# Labels that introduce a list rather than name an entity (主な取組, 【主な事業・取組】, 主な事業).
_LABEL = re.compile(
    r"^(【?参考】?)?[【\[［(（]?"
    r"(主な(事業|取組|取り組み)[・、]?(事業|取組|取り組み)?|主要事業|重点(事業|取組))"
    r"[】\]］)）]?$"
)
SENTENCE_END = "。．！？!?"

HEADING_MAX = 60


def number_value(text: str) -> int:
    """The value of a printed number: １, 1, ①, 一, 十二."""
    if text in CIRCLED:
        return CIRCLED.index(text) + 1
    if all(ch in KANJI_DIGITS for ch in text):
        if len(text) == 2 and text[0] == "十":
            return 10 + KANJI_DIGITS[text[1]]
        if len(text) == 2 and text[1] == "十":
            return KANJI_DIGITS[text[0]] * 10
        return KANJI_DIGITS[text[0]]
    return int(unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class Line:
    no: int  # 1-based line number in the document text
    raw: str
    text: str  # printed text: markup removed, outer white space trimmed, inner kept
    heading: int = 0  # markdown heading level the extraction gave it
    dash: bool = False  # the extraction marked it as a list item ("- ")
    style: str | None = None  # numbering style: digit, paren, circled, kanji
    number: str | None = None  # the printed number
    bullet: str | None = None  # the printed bullet
    body: str = ""  # the text after the number or bullet
    chapter: int | None = None  # Ⅰ Ⅱ Ⅲ
    cells: tuple[str, ...] = ()  # a table row's cells

    @property
    def blank(self) -> bool:
        return not self.text

    @property
    def headlike(self) -> bool:
        """Short and without a full stop at its end: a heading, a title or a caption."""
        return bool(self.text) and len(self.text) <= HEADING_MAX and self.text[-1] not in "。．"

    @property
    def label(self) -> bool:
        return bool(_LABEL.match(self.text.replace(" ", "").replace("　", "")))

    @property
    def note(self) -> bool:
        return bool(_NOTE.match(self.text))

    @property
    def bracket_caption(self) -> str | None:
        match = _CAPTION_BRACKETS.match(self.text)
        return match.group(1) if match else None

    @property
    def value(self) -> int | None:
        return number_value(self.number) if self.number else None


def read_line(no: int, raw: str) -> Line:
    text = raw.rstrip("\n")
    heading = 0
    dash = False
    if "\t" in text:
        cells = tuple(_clean(cell) for cell in text.split("\t"))
        if sum(1 for cell in cells if cell) >= 2:
            return Line(no, raw, _clean(text), cells=cells)
    if match := _MD_HEADING.match(text):
        heading = len(match.group(1))
        text = text[match.end():]
    if match := _MD_BULLET.match(text):
        dash = True
        text = text[match.end():]
    text = _clean(text)
    if match := _CHAPTER.match(text):
        return Line(no, raw, text, heading, dash, chapter=ROMAN[match.group(1)], body=match.group(2))
    for style, pattern in (("prefixed", _PREFIXED), ("paren", _PAREN), ("circled", _CIRCLED), ("kanji", _KANJI),
                           ("digit", _DIGIT)):
        if match := pattern.match(text):
            return Line(no, raw, text, heading, dash, style=style, number=match.group(1), body=match.group(2))
    if match := _BULLET.match(text):
        return Line(no, raw, text, heading, dash, bullet=match.group(1), body=match.group(2))
    return Line(no, raw, text, heading, dash, body=text)


def _clean(text: str) -> str:
    # The checker's own notion of markup (bold, <p>, <autolinks>), so a drafted text is always
    # one the checker finds.
    return unmarked(_BOLD.sub("", _HTML_P.sub("", text))).strip(" \u3000\t")


def read_lines(text: str) -> list[Line]:
    return [read_line(no, raw) for no, raw in enumerate(text.split("\n"), start=1)]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in SENTENCE_END + "」』）)"
