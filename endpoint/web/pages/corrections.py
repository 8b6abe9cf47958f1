"""Corrections where people read: a printed slip shown corrected, the printed form and Kusei's
note one tap away.

The graph keeps the printed text as the value and states the correction beside it (the
editorial graph, ``kusei:correction``). Pages read the printed texts, so each text is matched
against the recorded slips once per release; only the characters that differ are marked.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from kusei.endpoint.web.pages.data import run
from kusei.release import Release


@dataclass(frozen=True)
class Correction:
    printed: str  # the whole printed text the slip is in
    corrected: str
    note: str

    @property
    def span(self) -> tuple[int, int, int]:
        """Where the texts differ: (start, end in printed, end in corrected)."""
        a, b = self.printed, self.corrected
        start = 0
        while start < min(len(a), len(b)) and a[start] == b[start]:
            start += 1
        tail = 0
        while tail < min(len(a), len(b)) - start and a[-1 - tail] == b[-1 - tail]:
            tail += 1
        return start, len(a) - tail, len(b) - tail


def corrections(release: Release) -> list[Correction]:
    def compute() -> list[Correction]:
        rows = run(release, "corrections")
        return [Correction(r["printed"].value, r["corrected"].value, r["note"].value if "note" in r else "")
                for r in rows]

    return release.memo("corrections", compute)


def _found(text: str, fixes: list[Correction]) -> list[tuple[int, Correction]]:
    """Where each recorded printed text occurs in ``text`` (a paragraph may be part of it)."""
    found: list[tuple[int, Correction]] = []
    taken: list[tuple[int, int]] = []
    for fix in fixes:
        at = text.find(fix.printed)
        while at >= 0:
            end = at + len(fix.printed)
            if not any(at < e and s < end for s, e in taken):
                found.append((at, fix))
                taken.append((at, end))
            at = text.find(fix.printed, end)
    return sorted(found, key=lambda f: f[0])


def corrected_text(text: str, fixes: list[Correction]) -> str:
    """``text`` as it should read, for link texts, titles and attributes."""
    out, pos = [], 0
    for at, fix in _found(text, fixes):
        out += [text[pos:at], fix.corrected]
        pos = at + len(fix.printed)
    return "".join(out) + text[pos:]


def note(text: str, fixes: list[Correction]) -> Markup:
    """The printed form and the note, folded (one tap to open); empty when ``text`` has no slip."""
    found = _found(text, fixes)
    if not found:
        return Markup("")
    items = []
    for _, fix in found:
        start, end, _ = fix.span
        items.append(Markup('<li>印刷の表記 <span lang="en">printed</span>: 「{}<del>{}</del>{}」{}</li>').format(
            fix.printed[max(0, start - 8):start], fix.printed[start:end], fix.printed[end:end + 8],
            Markup(' <span lang="en">{}</span>').format(fix.note) if fix.note else ""))
    return Markup('<details class="correction"><summary>訂正あり <span lang="en">corrected</span></summary>'
                  '<ul>{}</ul></details>').format(Markup("").join(items))


def marked(text: str, fixes: list[Correction]) -> Markup:
    """``text`` corrected, each changed part in ``<ins>`` (its printed form as the title), then the note."""
    found = _found(text, fixes)
    if not found:
        return escape(text)
    out, pos = [], 0
    for at, fix in found:
        start, end, fixed_end = fix.span
        out.append(escape(text[pos:at + start]))
        out.append(Markup('<ins class="fix" title="印刷: {} printed">{}</ins>').format(
            fix.printed[start:end], fix.corrected[start:fixed_end]))
        out.append(escape(fix.corrected[fixed_end:]))
        pos = at + len(fix.printed)
    out.append(escape(text[pos:]))
    return Markup("").join(out) + note(text, fixes)
