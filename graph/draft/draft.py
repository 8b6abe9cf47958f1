"""Lines of a plan → a draft record (a plain mapping in the shape of kusei.graph.input.schema.Record).

The rules read the cues every plan uses, never one document's layout:

- chapters Ⅰ Ⅱ Ⅲ (基本目標, 施策, 組織運営); the chapter whose title names the organisation (組織)
  holds operation items;
- measures are the numbered headings of the outermost numbering style that runs 1, 2, 3 …; a
  number printed again with the same title (a list printed before its details) reopens the
  measure, and what follows is its detail; an unnumbered heading printed again later with its
  own list of projects is a banner when it stands above the numbered measures, else an
  unnumbered measure;
- projects are lines opened by a heading bullet (◆ ● ○ ■ …) or a second numbering style, headings
  followed by bullets, and, right after a label such as 主な事業, the short ・ bullets of a measure;
- items are the ・ bullets under a project; captions are <…> lines and short blocks standing alone;
- texts are copied as printed: lines are joined with nothing inserted, inner spaces are kept.

Each entity keeps the line it starts on as its hint. What only a person can decide is listed in
``Draft.todos`` by field path; ``kusei.graph.draft.write`` writes it as ``# TODO`` comments.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kusei.graph.draft import suggest
from kusei.graph.draft.layout import Line, ends_sentence, read_lines, squash
from kusei.namespaces import measure_key

_MTP = re.compile(r"[<＜〈](中期計画[:：][^<>＜＞〈〉]*)[>＞〉]")
_ERA_YEAR = re.compile(r"(令和|平成)([0-9０-９]{1,2}|元)年度")
# ～ (U+FF5E) as most text prints it; 〜 (U+301C) as a PDF's CID font may map the same glyph.
WAVES = ("～", "〜")
_TAGLINE = re.compile(r"^(.*\S)[ 　]*([～〜][^～〜]+[～〜])$")
_TITLED_ITEM = re.compile(r"^(.+?\S)[ 　]+[～〜][ 　]+(\S.+)$")
_SECTION = re.compile(r"《([^》]+)》\s*(.*)")
_MASCOT_ROLE = re.compile(r"^(.*?(マスコットキャラクター|マスコット|キャラクター|大使))[ 　]*(.*)$")
_CONTACT_HEAD = re.compile(r"問(い)?合(わ)?せ")
_PHONE = re.compile(r"^(電話|TEL|Tel|ＴＥＬ)[ 　]*[:：]?[ 　]*(.+)$")
_FAX = re.compile(r"^(FAX|Fax|ＦＡＸ|ファクス)[ 　]*[:：]?[ 　]*(.+)$")
# A featured box: コラム, or a title in 『』 (the schema's Column).
_COLUMN = re.compile(r"^[<＜【]?コラム|^[^『]{0,20}『[^』]+』$")
# Two or more section names listed at the start of a sentence: 戸籍課、保険年金課、…で
_UNIT = r"[^\s、。・「」]{2,12}(?:課|室|事務所)"
_SECTION_LIST = re.compile(rf"^((?:{_UNIT}[、・])+{_UNIT})[でがはにの]")
# The city Medium-Term Plan's basic strategy quoted in a sentence: 中期計画の基本戦略「…」
_BASIC_STRATEGY = re.compile(r"中期計画の?基本戦略「([^」\n]+)」")
_SYMBOL = re.compile(r"^区の(花|木)[：:][ 　]*(\S.*)$")
_ISSUE = re.compile(r"(No\.\s*\d+|\d+月号)")

PROJECT_STYLES_AFTER_MEASURE = ("circled", "paren", "kanji", "digit")


@dataclass
class Draft:
    record: dict[str, Any]
    todos: dict[tuple, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)


def fiscal_year_of(text: str) -> tuple[str, int] | None:
    match = _ERA_YEAR.search(text)
    if not match:
        return None
    era, number = match.group(1), match.group(2)
    n = 1 if number == "元" else int(unicodedata.normalize("NFKC", number))
    return match.group(0), (2018 if era == "令和" else 1988) + n


def _strip_tail_spaces(text: str) -> str:
    return text.strip(" \u3000")


class _Reader:
    def __init__(self, text: str) -> None:
        self.lines = read_lines(text)
        self.n = len(self.lines)

    def at(self, i: int) -> Line | None:
        return self.lines[i] if 0 <= i < self.n else None

    def next_nonblank(self, i: int) -> int:
        while i < self.n and self.lines[i].blank:
            i += 1
        return i

    def block(self, i: int) -> list[Line]:
        out = []
        while i < self.n and not self.lines[i].blank:
            out.append(self.lines[i])
            i += 1
        return out


def _continues(before: str, after: str) -> bool:
    """Whether ``after`` reads as the rest of an unfinished sentence rather than a heading: the
    text before stops at a comma, or the text after starts inside a word (a hiragana that does not
    open a heading, or closing punctuation)."""
    if before.endswith(("、", "，", ",")) or "、" in after:
        return True
    first = after[:1]
    return bool(first) and (("ぁ" <= first <= "ゖ" and first not in "おご") or first in "、。）」』】〉>ー")


def _plain(line: Line) -> bool:
    """Running text: no number, bullet, chapter, label, caption brackets or table cells."""
    return (not line.blank and line.style is None and line.bullet is None and line.chapter is None
            and not line.label and not line.note and line.bracket_caption is None and not line.cells
            and not line.dash and not line.heading)


class Drafter:
    def __init__(self, text: str, ward: str, year: int | None = None) -> None:
        self.text = text
        self.r = _Reader(text)
        self.ward = ward
        self.year = year
        self.todos: dict[tuple, str] = {}
        self.measures: list[dict] = []
        self.banners: list[dict] = []
        self.pending: list[dict] = []  # unnumbered headings with bullets, before the numbered measures
        self.operation: list[dict] = []
        self.sections: list[dict] = []
        self.mascots: list[dict] = []
        self.contacts: list[dict] = []
        self.notices: list[dict] = []
        self.columns: list[dict] = []
        self.symbols: dict[str, str] = {}
        self.bureau_rows: list[dict] = []
        self.goal: dict | None = None
        self.goal_span = (-1, -1)
        self.measure_style: str | None = None
        # what receives content: the innermost open entity
        self.measure: dict | None = None
        self.project: dict | None = None
        self.container: dict | None = None  # measure, banner, operation item or goal
        self.after_label = False
        self.chapter: tuple[int, str] | None = None
        self.org_chapter = False

    # ---- first pass: the numbering style of the measures
    def _choose_measure_style(self) -> None:
        chapter_org = False
        seen: dict[str, list[int]] = {}
        for line in self.r.lines:
            if line.chapter is not None:
                chapter_org = "組織" in line.body
                continue
            if line.label:
                chapter_org = False
                continue
            if chapter_org or line.style is None or not line.headlike or len(line.body) < 2:
                continue
            seen.setdefault(line.style, []).append(line.value or 0)
        # The outermost style: the first that starts at 1 and also prints 2.
        firsts = []
        for style, values in seen.items():
            if 1 in values and 2 in values:
                firsts.append((self._first_index(style), style))
        self.measure_style = min(firsts)[1] if firsts else None

    def _first_index(self, style: str) -> int:
        for index, line in enumerate(self.r.lines):
            if line.style == style and line.value == 1 and line.headlike:
                return index
        return self.r.n

    # ---- helpers
    def _title_with_continuation(self, i: int, body: str) -> tuple[str, int]:
        """A heading broken over two lines: the next line, short and followed by a blank, goes on."""
        nxt, after = self.r.at(i + 1), self.r.at(i + 2)
        if (nxt is not None and _plain(nxt) and nxt.headlike and len(nxt.text) <= 12
                and nxt.text[-1] not in "、，," and (after is None or after.blank)
                and not ends_sentence(body) and not body.endswith(WAVES) and not _MTP.search(body)):
            return body + nxt.text, i + 1
        return body, i

    def _paragraph(self, i: int) -> tuple[str, int]:
        """Running text from line i: consecutive plain lines, going on across a blank line while the
        sentence is unfinished. Returns the text and the index of the last line used."""
        parts = [self.r.lines[i].text]
        last = i
        j = i + 1
        while j < self.r.n and not self.r.lines[i].heading and j != self.goal_span[0]:
            line = self.r.lines[j]
            if line.blank:
                k = self.r.next_nonblank(j)
                nxt = self.r.at(k)
                if (nxt is not None and _plain(nxt) and not ends_sentence(parts[-1]) and k - j <= 1
                        and (not self._isolated_head(k)
                             or _continues(parts[-1], "".join(b.text for b in self.r.block(k))))):
                    j = k
                    continue
                break
            if not _plain(line):
                break
            parts.append(line.text)
            last = j
            j += 1
        return "".join(parts), last

    def _isolated_head(self, i: int) -> bool:
        """A short block standing alone between blank lines: a heading or a caption."""
        block = self.r.block(i)
        prev = self.r.at(i - 1)
        if prev is not None and not prev.blank:
            return False
        return bool(block) and len(block) <= 3 and all(_plain(b) and b.headlike for b in block) and \
            len("".join(b.text for b in block)) <= 80

    def _heads_something(self, k: int) -> bool:
        """Whether the block at k makes the short block above it a heading rather than a caption: a
        table, a heading directly above its text, or a heading printed again later."""
        nxt = self.r.at(k)
        if nxt is None:
            return False
        if nxt.cells or (nxt.style is not None and nxt.value == 1):
            return True  # the heading of a table, or of a numbered list that starts here
        block = self.r.block(k)
        if len(block) >= 2 and all(_plain(b) for b in block) and len(block[0].text) <= 15 and \
                not block[0].text.endswith(("、", "，")) and not ends_sentence(block[0].text) and \
                not all(b.headlike for b in block):
            return True
        if self._isolated_head(k):
            text = "".join(b.text for b in block)
            return self._later_twin(text, k + len(block))
        return False

    def _later_twin(self, text: str, after: int) -> bool:
        target = squash(text)
        # A bulleted line is an entity of its own (a project named like a caption), not a twin.
        return len(target) >= 4 and any(
            line.text and line.bullet is None and squash(line.body or line.text).startswith(target)
            for line in self.r.lines[after:])

    def _earlier_twin(self, text: str, before: int) -> Line | None:
        """The first earlier line printing the same text (spaces aside), for a heading printed twice."""
        target = squash(text)
        for line in self.r.lines[:before]:
            if line.text and squash(line.body or line.text) == target:
                return line
        return None

    def _todo(self, path: tuple, message: str) -> None:
        self.todos[path] = message

    # ---- entities
    def _new_measure(self, line: Line, title: str, number: str | None, hint: int) -> dict:
        title, tagline = self._split_tagline(title)
        measure: dict[str, Any] = {"number": number, "title": title}
        if tagline:
            measure["tagline"] = tagline
        measure.update({"line": hint, "description": [], "items": [], "mtp_basic_strategy": [], "policy_areas": [],
                        "projects": [], "captions": []})
        self.measures.append(measure)
        return measure

    @staticmethod
    def _split_tagline(title: str) -> tuple[str, str | None]:
        match = _TAGLINE.match(title)
        if match and not match.group(1).endswith(WAVES):
            return match.group(1), match.group(2)
        return title, None

    def _find_measure(self, number: str | None, title: str) -> dict | None:
        key = squash(self._split_tagline(title)[0])
        for measure in self.measures:
            mkey = squash(measure["title"])
            if number is not None and measure["number"] is not None and \
                    measure_key(measure["number"]) != measure_key(number):
                continue
            if key and mkey and (key.startswith(mkey[:8]) or mkey.startswith(key[:8])):
                return measure
        return None

    def _open(self, container: dict | None, project: dict | None = None) -> None:
        self.container = container
        self.project = project

    def _new_project(self, line: Line, title: str, marker: str | None) -> dict:
        project: dict[str, Any] = {}
        if marker:
            project["marker"] = marker
        mtp = _MTP.search(title)
        if mtp:
            # The reference closes the title: anything after it is not the title's (and a title
            # joined across the reference would not be printed in one piece).
            title = _strip_tail_spaces(title[: mtp.start()])
        project["title"] = title
        project.update({"description": [], "items": []})
        if mtp:
            project["mtp"] = suggest.mtp_reference(mtp.group(1))
        project.update({"captions": [], "line": line.no})
        parent = self.container if self.container is not None and "projects" in self.container else None
        if parent is None:
            # Projects with no measure above them: a group of their own, decided by a person.
            parent = self._unnumbered(line, None)
        parent["projects"].append(project)
        self.project = project
        return project

    def _unnumbered(self, line: Line, heading: Line | None) -> dict:
        """An unnumbered heading with its own projects: a banner above the numbered measures, or an
        unnumbered measure after them."""
        title = heading.text if heading is not None else None
        hint = heading.no if heading is not None else line.no
        if heading is not None and (twin := self._earlier_twin(heading.text, heading.no - 1)) is not None:
            title, hint = twin.text, twin.no
        if title is None:
            title = line.text
        numbered = [m for m in self.measures if m["number"] is not None]
        first_measure_line = min((m["line"] for m in numbered), default=None)
        entity: dict[str, Any]
        if first_measure_line is not None and hint < first_measure_line:
            entity = {"title": title, "description": [], "policy_areas": [], "projects": [], "captions": [],
                      "line": hint}
            self.banners.append(entity)
            entity["_kind"] = "banner"
        else:
            entity = self._new_measure(line, title, None, hint)
            entity["_kind"] = "unnumbered"
        self._open(entity)
        self.measure = entity
        return entity

    def _add_caption(self, text: str) -> None:
        target = self.project or self.container
        if target is not None and "captions" in target:
            target["captions"].append(text)

    def _add_paragraph(self, text: str) -> None:
        target = self.project or self.container
        if target is None:
            return
        if "description" in target:
            target["description"].append(text)
        elif "statements" in target:
            target["statements"].append(text)

    def _add_item(self, text: str) -> None:
        target = self.project or self.container
        if target is None:
            return
        match = _TITLED_ITEM.match(text)
        item: Any = {"title": match.group(1), "description": match.group(2)} if match else text
        if "items" in target:
            target["items"].append(item)
        elif "statements" in target:
            target["statements"].append(text)

    # ---- the pass over the lines
    def run(self) -> Draft:
        self._choose_measure_style()
        self._goal()
        i = 0
        r = self.r
        while i < r.n:
            line = r.lines[i]
            if line.blank:
                i += 1
                continue
            if self.goal is not None and i == self.goal_span[0]:
                self._open(self.goal)
                i = self.goal_span[1]
                continue
            i = self._line(i, line) + 1
        return self._assemble()

    def _line(self, i: int, line: Line) -> int:
        r = self.r
        if line.chapter is not None:
            self.chapter = (line.chapter, line.body)
            self.org_chapter = "組織" in line.body
            self.after_label = False
            self._open(None)
            if self.org_chapter:
                self.measure = None
            return i
        if line.cells:
            return self._cells(i, line)
        if line.label:
            k = self.r.next_nonblank(i + 1)
            block = self.r.block(k)
            if block and all(_plain(b) for b in block) and "/" in "".join(b.text for b in block) and \
                    self.container is not None and "items" in self.container and self.project is None:
                # A measure's main projects in short, separated by slashes: its summary items.
                for part in "".join(b.text for b in block).split("/"):
                    if part.strip():
                        self.container["items"].append(part.strip())
                return k + len(block) - 1
            self.after_label = True
            if self.org_chapter:
                self.org_chapter = False
                self._open(None)
            self.project = None
            return i
        if line.note:
            self.notices.append({"title": line.text[1:].strip(" \u3000"), "line": line.no})
            return i
        if "中期計画" in line.text and "基本戦略" in "".join(b.text for b in r.block(i)) and line.headlike \
                and not _MTP.search(line.text):
            return self._basic_strategy(i)
        if (caption := line.bracket_caption) is not None:
            self._add_caption(caption)
            return i
        if line.heading and line.style is None and line.bullet is None and self._is_plan_title(line):
            return i
        if 0 < line.heading <= 2 and line.style is None and line.bullet is None and not line.label:
            # A page's top headings (h1, h2) divide it as chapters do: what follows is not the
            # open measure's.
            self.chapter = (0, line.text)
            self.org_chapter = "組織" in line.text
            self.after_label = False
            self._open(None)
            self.measure = None
            return i
        if _CONTACT_HEAD.search(line.text) and line.headlike and len(line.text) <= 12:
            return self._contact(i)
        if _SECTION.search(line.text) and self._sections_in(line, [line.text]):
            return i
        self._named_sections(line)
        if line.style is not None and line.headlike:
            return self._numbered(i, line)
        if line.bullet is not None:
            return self._bulleted(i, line)
        if line.dash:
            text, last = self._item_text(i, line.text)
            self._dash_item(line, text)
            return last
        if self._mascot(i, line) or self._symbol(line):
            return i
        return self._plain_block(i, line)

    def _is_plan_title(self, line: Line) -> bool:
        return "運営方針" in line.text and len(line.text) <= 40

    def _operation_item(self, title: str, line_no: int, number: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"group": self.chapter[1] if self.chapter else None, "number": number, "title": title,
                                "description": [], "items": [], "line": line_no}
        self.operation.append(item)
        self._open(item)
        return item

    def _numbered(self, i: int, line: Line) -> int:
        body, last = self._title_with_continuation(i, line.body)
        if self.org_chapter and not self._find_measure(line.number, body):
            self._operation_item(body, line.no, line.number)
            return last
        if line.style == self.measure_style:
            self.org_chapter = False
            existing = self._find_measure(line.number, body)
            if existing is None:
                pend = self._take_pending(body)
                measure = self._new_measure(line, body, line.number, pend["line"] if pend else line.no)
                if pend:
                    measure["items"].extend(pend["items"])
                    measure["projects"].extend(pend["projects"])
                existing = measure
            k = self.r.next_nonblank(last + 1)
            nxt = self.r.at(k)
            if "tagline" not in existing and nxt is not None and _plain(nxt) and nxt.text.startswith(WAVES) \
                    and nxt.text.endswith(WAVES):
                existing["tagline"] = nxt.text
                _move_after(existing, "tagline", "title")
                last = k
            self.measure = existing
            self._open(existing)
            self.after_label = False
            return last
        # Another numbering style inside a measure: a project (① under 1, (1) under 1 …).
        self._new_project(line, body, line.number)
        return last

    def _take_pending(self, title: str) -> dict | None:
        key = squash(self._split_tagline(title)[0])
        for pend in self.pending:
            if squash(pend["title"]) == key:
                self.pending.remove(pend)
                return pend
        return None

    def _item_text(self, i: int, first: str) -> tuple[str, int]:
        """A bullet's text and the lines it wraps onto (plain lines straight after it)."""
        parts = [first]
        j = i + 1
        while j < self.r.n and _plain(self.r.lines[j]) and not self.r.lines[j].headlike:
            parts.append(self.r.lines[j].text)
            j += 1
        # Wrapped across a blank line while the sentence is unfinished.
        last_line = self.r.lines[j - 1]
        if j + 1 < self.r.n and self.r.lines[j].blank and _plain(self.r.lines[j + 1]) and \
                not ends_sentence(parts[-1]) and not last_line.headlike and \
                (not self.r.lines[j + 1].headlike or _continues(parts[-1], self.r.lines[j + 1].text)):
            j += 1
            parts.append(self.r.lines[j].text)
            j += 1
            while j < self.r.n and _plain(self.r.lines[j]) and not self.r.lines[j].headlike:
                parts.append(self.r.lines[j].text)
                j += 1
        # A last short wrapped line ending the sentence.
        if j < self.r.n and _plain(self.r.lines[j]) and ends_sentence(self.r.lines[j].text) and \
                not ends_sentence(parts[-1]):
            parts.append(self.r.lines[j].text)
            j += 1
        return "".join(parts), j - 1

    def _bulleted(self, i: int, line: Line) -> int:
        if line.bullet is not None and line.bullet in "・･":
            text, last = self._item_text(i, line.body)
            if self.org_chapter:
                self._add_item(text)
                return last
            if self.project is None and self.container is not None and "projects" in self.container and \
                    self.after_label and line.headlike:
                self._new_project(line, text, line.bullet)
                self.project = None  # the next ・ is a project of its own too
                nxt = self.r.at(last + 1)
                if nxt is None or nxt.blank or not (nxt.bullet in ("・", "･") or nxt.dash):
                    # A list of project names closes the measure's box: what follows is not its.
                    self._open(None)
                    self.measure = None
                return last
            if self.project is None and self.container is None:
                return last
            self._add_item(text)
            return last
        body, last = self._title_with_continuation(i, line.body)
        if self.org_chapter:
            self._operation_item(body, line.no)
            return last
        if self.container is None or "projects" not in self.container:
            heading = self._heading_above(i)
            if heading is not None:
                self._unnumbered(line, heading)
        else:
            heading = self._heading_above(i)
            if heading is not None:
                self._unnumbered(line, heading)
        self._new_project(line, body, line.bullet)
        return last

    def _heading_above(self, i: int) -> Line | None:
        """The heading of a group of projects just above a project bullet: a short line that starts
        a block and either stands above a label (主な事業) or was printed before (a list printed
        before its details). A short line with neither is a caption of what precedes it."""
        j = i - 1
        labelled = False
        while j >= 0:
            line = self.r.lines[j]
            if line.blank or line.label:
                labelled = labelled or line.label
                j -= 1
                continue
            prev = self.r.at(j - 1)
            if _plain(line) and line.headlike and (prev is None or prev.blank) and \
                    not self._is_container_title(line) and \
                    (labelled or self._earlier_twin(line.text, j) is not None):
                return line
            return None
        return None

    def _is_container_title(self, line: Line) -> bool:
        container = self.container
        if container is None or "title" not in container:
            return False
        return container.get("line") == line.no or squash(container["title"]) == squash(line.text)

    def _dash_item(self, line: Line, text: str) -> None:
        if self.project is None and self.after_label and self.container is not None and \
                "projects" in self.container and not self.container.get("_pending") and len(text) <= 40 and \
                not ends_sentence(text):
            # A web page's list under 主な取組: the names of the measure's projects.
            self._new_project(line, text, None)
            self.project = None
            return
        if self.project is not None or self.container is not None:
            self._add_item(text)

    def _plain_block(self, i: int, line: Line) -> int:
        r = self.r
        if self._isolated_head(i):
            block = r.block(i)
            text = "".join(b.text for b in block)
            last = i + len(block) - 1
            k = r.next_nonblank(last + 1)
            nxt = r.at(k)
            heading_of_bullets = nxt is not None and (nxt.dash or (nxt.bullet is not None and nxt.bullet in "・･"))
            if self.org_chapter:
                if nxt is not None and (_plain(nxt) or nxt.dash):
                    self._operation_item(text, line.no)
                return last
            if nxt is not None and nxt.label:
                k = r.next_nonblank(k + 1)
                nxt = r.at(k)
                if nxt is not None and nxt.bullet is not None and nxt.bullet not in "・･":
                    return last  # a heading above a list of projects: handled when they come
                if self._later_twin(text, last + 1):
                    return last
                self._add_caption(text)
                return last
            if nxt is not None and nxt.bullet is not None and nxt.bullet not in "・･" and \
                    self._heading_above(k) is not None:
                return last  # the heading of the projects that follow: handled when they come
            if _COLUMN.search(text) and nxt is not None and (_plain(nxt) or nxt.dash or nxt.bullet):
                column = {"title": text, "description": [], "items": [], "captions": [], "line": line.no}
                if self.measure is not None and self.measure.get("number"):
                    column["measure"] = self.measure["number"]
                self.columns.append(column)
                self._open(column)
                return last
            container = self.container if self.container is not None and "projects" in self.container \
                and not self.container.get("_pending") else None
            if heading_of_bullets:
                if container is None:
                    self.pending.append({"title": text, "line": line.no, "items": [], "projects": [],
                                         "_pending": True})
                    self._open(self.pending[-1])
                    self.project = None
                    return last
                self._new_project(line, text, None)
                return last
            if self._later_twin(text, last + 1):
                # A heading printed again later (a list printed before its details): a group of its
                # own starts here, so what follows is not the open measure's.
                self._open(None)
                self.measure = None
                return last
            follows_text = nxt is not None and _plain(nxt) and not self._isolated_head(k)
            if follows_text and container is not None and (container["projects"] or self.after_label):
                self._new_project(line, text, None)
                return last
            if not self._heads_something(k):
                self._add_caption(text)
            return last
        # A heading directly above its running text (no blank between) in the organisation chapter.
        block = r.block(i)
        if self.org_chapter and len(block) >= 2 and line.headlike and len(line.text) <= 20 and \
                not ends_sentence(line.text):
            item = self._operation_item(line.text, line.no)
            text, last = self._paragraph(i + 1)
            item["description"].append(text)
            return last
        text, last = self._paragraph(i)
        self._add_paragraph(text)
        return last

    def _basic_strategy(self, i: int) -> int:
        block = self.r.block(i)
        last = i + len(block) - 1
        k = self.r.next_nonblank(last + 1)
        target = self.r.block(k)
        if not target or not self.measure or "mtp_basic_strategy" not in self.measure:
            return last
        text = "".join(b.text for b in target)
        for part in text.split("/"):
            ref = suggest.perspective(part)
            if ref:
                self.measure["mtp_basic_strategy"].append({"printed": part, "ref": ref})
        return k + len(target) - 1

    def _cells(self, i: int, line: Line) -> int:
        if self._sections_in(line, list(line.cells)):
            return i
        cells = [c for c in line.cells if c]
        if len(cells) >= 3:
            keys = suggest.bureaus(cells[-1])
            if keys:
                self.bureau_rows.append({"title": cells[0], "content": cells[1], "bureaus_printed": cells[-1],
                                         "bureaus": keys, "line": line.no})
        return i

    def _sections_in(self, line: Line, texts: list[str]) -> bool:
        found = False
        for text in texts:
            match = _SECTION.search(text)
            if not match:
                continue
            key = suggest.section_type(match.group(1))
            if key is None:
                continue
            section: dict[str, Any] = {"key": key, "name": match.group(1)}
            mission = match.group(2).strip()
            if mission:
                section["mission"] = mission
            if self.measure is not None and self.measure.get("number"):
                section["measure"] = self.measure["number"]
            section["line"] = line.no
            self.sections.append(section)
            found = True
        return found

    def _named_sections(self, line: Line) -> None:
        """Sections named in a list in running text (戸籍課、保険年金課、… で…): names only."""
        match = _SECTION_LIST.match(line.text)
        if not match:
            return
        for name in re.split(r"[、・]", match.group(1)):
            key = suggest.section_type(name)
            if key is not None and all(s["key"] != key for s in self.sections):
                self.sections.append({"key": key, "name": name, "line": line.no})

    def _mascot(self, i: int, line: Line) -> bool:
        match = _MASCOT_ROLE.match(line.text)
        if not match or len(line.text) > 40:
            return False
        role, name = match.group(1), match.group(3).strip()
        if not name:
            nxt = self.r.at(i + 1)
            if nxt is not None and re.fullmatch(r"「[^」]+」", nxt.text):
                name = nxt.text[1:-1]
        name = name.strip("「」")
        if not name or len(name) > 20:
            return False
        self.mascots.append({"key": f"mascot-{len(self.mascots) + 1}", "name": name, "role": role, "line": line.no})
        return True

    def _symbol(self, line: Line) -> bool:
        """区の花：… and 区の木：…, the ward's flower and tree."""
        match = _SYMBOL.match(line.text)
        if not match:
            return False
        kind = "flower" if match.group(1) == "花" else "tree"
        self.symbols[f"{kind}_printed"] = line.text
        self.symbols[kind] = match.group(2)
        return True

    def _contact(self, i: int) -> int:
        k = self.r.next_nonblank(i + 1)
        unit = self.r.at(k)
        if unit is None or not _plain(unit) or not unit.headlike:
            return i
        contact: dict[str, Any] = {"key": f"contact-{len(self.contacts) + 1}", "unit": unit.text, "line": unit.no}
        j = k + 1
        while j < self.r.n and j <= k + 8:
            line = self.r.lines[j]
            if (m := _PHONE.match(line.text)) and "phone" not in contact:
                contact["phone"] = m.group(2)
            elif (m := _FAX.match(line.text)) and "fax" not in contact:
                contact["fax"] = m.group(2)
            elif not line.blank and not line.text.startswith("担当"):
                break
            j += 1
        section = suggest.section_type(unit.text)
        if section:
            contact["section"] = section
        self.contacts.append(contact)
        return j - 1

    def _goal(self) -> None:
        r = self.r
        start = None
        for index, line in enumerate(r.lines):
            if "基本目標" in line.text and len(line.text) <= 12:
                start = index
                break
        goal: dict[str, Any] | None = None
        if start is not None:
            k = r.next_nonblank(start + 1)
            found = r.at(k)
            if found is not None and (_plain(found) and found.headlike or found.heading):
                goal = self._goal_at(k)
        if goal is None:
            # A title with its ～subtitle～ on the next line, before the measures.
            for index, line in enumerate(r.lines[:-1]):
                nxt = r.lines[index + 1]
                if _plain(line) and line.headlike and nxt.text.startswith(WAVES) and nxt.text.endswith(WAVES):
                    goal = self._goal_at(index)
                    break
        self.goal = goal

    def _goal_at(self, k: int) -> dict:
        r = self.r
        block = r.block(k)
        title_lines = [block[0]]
        for line in block[1:]:
            if line.text.startswith(WAVES) or not line.headlike or not _plain(line):
                break
            title_lines.append(line)
        title = "".join(line.text for line in title_lines)
        title, subtitle = self._split_tagline(title)
        goal: dict[str, Any] = {"title": title}
        j = k + len(title_lines)
        nxt_index = j if j < k + len(block) else r.next_nonblank(j)
        nxt = r.at(nxt_index)
        if subtitle is None and nxt is not None and nxt.text.startswith(WAVES):
            subtitle = nxt.text
            j = nxt_index + 1
        if subtitle:
            goal["subtitle"] = subtitle
        goal["statements"] = []
        goal["captions"] = []
        goal["line"] = r.lines[k].no
        self.goal_span = (k, j)
        return goal

    # ---- the record
    def _assemble(self) -> Draft:
        for pend in self.pending:
            if pend["projects"]:
                self.banners.append({"title": pend["title"], "description": [], "policy_areas": [],
                                     "projects": pend["projects"], "captions": [], "line": pend["line"]})
        text = self.text
        # The year of the plan's own title (運営方針), else the year printed most often (a plan
        # also names past and future years: 平成30年度末 in a project).
        titled = [line.text for line in self.r.lines if "運営方針" in line.text and fiscal_year_of(line.text)]
        printed_years = [(m.group(0), fiscal_year_of(m.group(0))) for m in _ERA_YEAR.finditer(text)]
        year = fiscal_year_of(titled[0]) if titled else None
        if year is None and printed_years:
            counts = Counter(printed for printed, _ in printed_years)
            best = max(counts.values())
            year = next(y for printed, y in printed_years if counts[printed] == best)
        if len({printed for printed, _ in printed_years}) > 1:
            self._todo(("plan", "fiscal_year", "year"), "several years are printed ("
                       + ", ".join(sorted({printed for printed, _ in printed_years})) + "): check this is the plan's")
        plan: dict[str, Any] = {}
        # The plan's title: a line naming 運営方針, best a heading that prints the year (a page's
        # breadcrumb or a letter's subject also name it).
        candidates = [line for line in self.r.lines if line.text and self._is_plan_title(line)
                      and "について" not in line.text and ">" not in line.text]
        candidates.sort(key=lambda line: (not line.heading, fiscal_year_of(line.text) is None, line.no))
        title = candidates[0].text if candidates else None
        if title:
            plan["title"] = title
        if year:
            plan["fiscal_year"] = {"printed": year[0], "year": year[1]}
            if self.year is not None and self.year != year[1]:
                self._todo(("plan", "fiscal_year"), f"--year {self.year} was given, but the text prints {year[0]}"
                           f" (FY{year[1]}); check which is right")
        else:
            guess = self.year if self.year is not None else 0
            plan["fiscal_year"] = {"year": guess if guess else 2100, "inferred": True,
                                   "reason": "TODO: no year is printed; say what in the text points to this year"}
            self._todo(("plan", "fiscal_year"), "no fiscal year (令和N年度/平成N年度) is printed: set year, "
                       "and write in reason what in the text points to it")
        strategy = _BASIC_STRATEGY.search(text)
        if strategy:
            plan["mtp_basic_strategy"] = strategy.group(1)
        goal = self.goal or {"title": self._first_heading()}
        if self.goal is None:
            self._todo(("plan", "basic_goal"), "no basic goal (基本目標) was recognised: the title here is the "
                       "first heading; replace it with the printed goal")
        plan["basic_goal"] = _prune(goal)
        if self.banners:
            plan["banners"] = [_prune(b) for b in self.banners]
            for index, _ in enumerate(self.banners):
                self._todo(("plan", "banners", index), "an unnumbered theme with projects above the numbered "
                           "measures: a banner, or an unnumbered measure? (move it under measures if so)")
        measures = [_prune(m) for m in self.measures]
        for index, measure in enumerate(measures):
            areas = suggest.policy_areas(_entity_words(measure))
            measure["policy_areas"] = areas or ["ward-office"]
            self._todo(("plan", "measures", index, "policy_areas"),
                       "interpretation: confirm the policy areas (keys of graph/reference/policy_areas.yaml), "
                       "suggested by the words of the measure and its projects")
            if measure.get("number") is None:
                self._todo(("plan", "measures", index), "unnumbered: a measure, or a banner above the measures?")
        if not measures:
            # A record needs a measure: the first heading stands in (a printed text), flagged.
            measures = [{"title": self._first_heading(), "policy_areas": ["ward-office"]}]
            self._todo(("plan", "measures", 0), "no measures were recognised: this first heading stands in; "
                       "write the measures by hand")
        plan["measures"] = measures
        if self.operation:
            plan["operation"] = [_prune(o) for o in self.operation]
            self._todo(("plan", "operation"), "check the groups of the operation items (group: the printed "
                       "heading they stand under)")
        record: dict[str, Any] = {
            "document": {"file": "", "ward": self.ward, "kind": self._kind(text)},
            "plan": plan,
        }
        if title:
            record["document"]["title"] = title
        for path, message in (
            (("document", "kind"), "newsletter, policy or report: what the document is"),
            (("document", "origin"), "where the document comes from (publisher, URL, date seen), in English"),
            (("document", "licence"), "what is known of its licence (most plans print none)"),
        ):
            self._todo(path, message)
        record["document"]["origin"] = "TODO: where the document comes from"
        record["document"]["licence"] = "TODO: what is known of its licence"
        if self.mascots:
            record["mascots"] = self.mascots
            self._todo(("mascots",), "give each mascot a key (ASCII, e.g. its name in romaji); check the name")
        if self.sections:
            record["sections"] = self.sections
            self._todo(("sections",), "check each section's key (graph/reference/section_types.yaml)")
        if self.contacts:
            record["contacts"] = self.contacts
            self._todo(("contacts",), "give each contact point a key; leave personal names out")
        if self.symbols:
            order = ("flower_printed", "flower", "tree_printed", "tree")
            record["ward_symbols"] = {key: self.symbols[key] for key in order if key in self.symbols}
        if self.bureau_rows:
            record["bureau_projects"] = self.bureau_rows
            self._todo(("bureau_projects",), "check the bureau keys (graph/reference/bureaus.yaml) "
                       "suggested by the printed bureau names")
        if self.notices:
            record["notices"] = self.notices
        if self.columns:
            plan["columns"] = [_prune(c) for c in self.columns]
        return Draft(record, self.todos)

    def _first_heading(self) -> str:
        for line in self.r.lines:
            if _plain(line) and line.headlike:
                return line.text
        return self.r.lines[0].text

    def _kind(self, text: str) -> str:
        if _ISSUE.search(text[:2000]):
            return "newsletter"
        if "（報告）" in text or "(報告)" in text:
            return "report"
        return "policy"


def _move_after(node: dict, key: str, after: str) -> None:
    """Keep the schema's field order when a field is found late."""
    items = list(node.items())
    value = node[key]
    node.clear()
    for k, v in items:
        if k == key:
            continue
        node[k] = v
        if k == after:
            node[key] = value


def _entity_words(measure: dict) -> str:
    parts = [measure.get("title", ""), measure.get("tagline") or ""]
    parts += [p for p in measure.get("description", []) if isinstance(p, str)]
    for project in measure.get("projects", []):
        parts.append(project.get("title", ""))
        parts += [p for p in project.get("description", []) if isinstance(p, str)]
    return "\n".join(parts)


def _prune(node: Any) -> Any:
    """Drop empty lists, None values and private keys; keep the field order of the schema."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key.startswith("_") or value is None or value == [] or value == "":
                continue
            out[key] = _prune(value)
        return out
    if isinstance(node, list):
        return [_prune(v) for v in node]
    return node


def draft_text(text: str, ward: str, year: int | None = None) -> Draft:
    """Draft a record from a document's text (the text as it will be written to graph/sources)."""
    return Drafter(text, ward, year).run()
