"""A fictitious ward plan written for the drafting tests, and the layouts it is printed in.

The plan (栄区, 令和8年度) is invented for these tests: its sentences are the tests' own. It is
rendered as plain text in several numbering and bullet styles, with the list of measures printed
before their details, as an HTML page, and as PDF pages (one column and two columns). ``expected``
is the finished record the draft of every layout is compared with.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

WARD = "141151"  # 栄区
YEAR_PRINTED = "令和8年度"
TITLE = "令和8年度栄区運営方針"
GOAL = "川と緑に囲まれ、だれもが笑顔で暮らせる栄"
GOAL_SUB = "～ともに育て、ともに支えるまち～"
STATEMENTS = [
    "地域の皆様とともに、身近な課題を一つずつ解決し、安心して住み続けられるまちをつくります。",
    "区役所は、区民の皆様の声を聴き、分かりやすく丁寧な行政サービスを届けます。",
]


@dataclass
class Project:
    title: str
    description: str = ""
    items: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)


@dataclass
class Measure:
    title: str
    tagline: str
    description: str
    projects: list[Project]


MEASURES = [
    Measure(
        "子どもがのびのび育つまち", "～地域ぐるみの子育て～",
        "妊娠期から青少年期まで、家庭と地域と区役所が手を取り合い、子どもの成長を見守ります。",
        [
            Project("親子の居場所づくり", "公園や地区センターで親子が気軽に集まれる催しを開きます。",
                    ["週末の親子ひろばを区内五か所で開催します。", "初めての子育てを迎える家庭へ案内を届けます。"],
                    ["いたち川沿いの親子ひろば"]),
            Project("放課後の学び支援", "小学生が放課後に安心して過ごし学べる場を広げます。",
                    ["学生ボランティアによる学習会を開きます。", "図書の貸出と読み聞かせを行います。"]),
        ],
    ),
    Measure(
        "災害に備える安全なまち", "～自助と共助の力を高める～",
        "大雨や地震に備え、地域の防災訓練と情報の届け方を見直し、避難の備えを確かなものにします。",
        [
            Project("地域防災拠点の訓練支援", "拠点ごとの運営委員会と訓練の計画を立て、資機材を点検します。",
                    ["夜間を想定した開設訓練を支援します。", "要援護者の名簿を地域と共有します。"],
                    ["夜間開設訓練の様子"]),
            Project("水害への備え", "川沿いの地域で浸水の目安を示す看板を増やします。",
                    ["浸水の目安看板を新たに十基設置します。"]),
            Project("防犯と交通安全", "通学路の見守りと防犯灯の点検を地域と進めます。",
                    ["通学路の危険箇所を合同で点検します。", "自転車の安全講習を開きます。"]),
        ],
    ),
    Measure(
        "支え合い健やかに暮らせるまち", "～つながりが支える毎日～",
        "高齢の方や障害のある方が住み慣れた地域で暮らし続けられるよう、見守りと相談の輪を広げます。",
        [
            Project("見守りネットワークの充実", "民生委員や商店と協力し、気づきを相談につなげます。",
                    ["見守り協力店を募ります。", "相談窓口の案内を全戸に配ります。"]),
            Project("健康づくりの推進", "歩く習慣と食生活の見直しを講座で応援します。",
                    ["ウォーキングマップを改訂します。"],
                    ["ウォーキング講座"]),
        ],
    ),
    Measure(
        "にぎわいと魅力があふれるまち", "～川と緑を生かす～",
        "川辺の散策路や農の風景など、区の魅力を発信し、訪れる人と住む人のつながりを育てます。",
        [
            Project("川辺の魅力発信", "散策路の案内と季節の催しを区の情報サイトで紹介します。",
                    ["春と秋に川辺の散策会を開きます。", "写真コンテストを開きます。"]),
            Project("商店街のにぎわいづくり", "商店街と学校が協力する催しを支援します。",
                    ["商店街の催しに学生の出店を募ります。"],
                    ["商店街の夏まつり"]),
        ],
    ),
]

BUREAU_ROWS = [
    ("公園の遊具更新", "区内三公園の遊具を新しくします", "環境創造局"),
    ("通学路の歩道整備", "小学校周辺の歩道を広げます", "道路局"),
    ("小学校の建替え", "老朽化した校舎の設計を進めます", "教育委員会事務局"),
]

# Numbering styles of the measures and bullets of the projects, as the text layouts print them.
NUMBERS = {
    "fullwidth": lambda n: f"{'０１２３４５６７８９'[n]} ",
    "dot": lambda n: f"{n}. ",
    "paren": lambda n: f"({n}) ",
    "circled": lambda n: "①②③④⑤"[n - 1] + " ",
    "kanji": lambda n: "一二三四五"[n - 1] + "、",
}


def printed_number(style: str, n: int) -> str:
    return NUMBERS[style](n).strip(" 、.()")


@dataclass(frozen=True)
class Layout:
    name: str
    numbering: str
    bullet: str  # the projects' bullet; "・" prints them as a short list under 主な事業
    list_first: bool = False


TEXT_LAYOUTS = [
    Layout("fullwidth-diamond", "fullwidth", "◆"),
    Layout("dot-filled-circle", "dot", "●"),
    Layout("paren-circle", "paren", "○"),
    Layout("circled-square", "circled", "■"),
    Layout("kanji-middle-dot", "kanji", "・"),
    Layout("list-first", "fullwidth", "◆", list_first=True),
]


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


def text_lines(layout: Layout, width: int = 0) -> list[str]:
    """The plan as printed lines; ``width`` breaks long texts as a narrow PDF column does."""

    def para(text: str) -> list[str]:
        return _wrap(text, width) if width else [text]

    out = [TITLE, "", "Ⅰ 基本目標", "", GOAL, GOAL_SUB, ""]
    for statement in STATEMENTS:
        out += para(statement) + [""]
    out += ["Ⅱ 目標達成に向けた施策", ""]
    number = NUMBERS[layout.numbering]
    if layout.list_first:
        for n, measure in enumerate(MEASURES, start=1):
            out += [f"{number(n)}{measure.title}", ""]
        out += ["主な取組", ""]
    for n, measure in enumerate(MEASURES, start=1):
        out += [f"{number(n)}{measure.title}", "", measure.tagline, ""]
        out += para(measure.description) + [""]
        if layout.bullet == "・":
            out += ["主な事業", ""]
            out += [f"・{project.title}" for project in measure.projects] + [""]
            continue
        for project in measure.projects:
            out += [f"{layout.bullet}{project.title}", ""]
            out += para(project.description) + [""]
            for item in project.items:
                out += para(f"・{item}")
            out += [""]
            for caption in project.captions:
                out += [f"＜{caption}＞" if len(caption) % 2 else caption, ""]
    out += ["Ⅲ 目標達成に向けた組織運営", "", "区民の皆様の声を聴く区役所", "",
            "窓口での一言を大切にし、分かりやすい説明に努めます。", ""]
    out += ["【参考】区で展開される主な局事業", "", "事業名\t内容\t所管局"]
    out += ["\t".join(row) for row in BUREAU_ROWS]
    return out


def html_page() -> str:
    """The plan as a ward's web page: headings, paragraphs, lists, figures and a table."""
    e = html.escape
    parts = ["<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>", e(TITLE),
             "</title><style>p{margin:0}</style></head><body><header><nav><a href='/'>トップ</a></nav></header><main>",
             f"<h1>{e(TITLE)}</h1>", "<h2>Ⅰ 基本目標</h2>", f"<p>{e(GOAL)}<br>{e(GOAL_SUB)}</p>"]
    parts += [f"<p>{e(s)}</p>" for s in STATEMENTS]
    parts.append("<h2>Ⅱ 目標達成に向けた施策</h2>")
    for n, measure in enumerate(MEASURES, start=1):
        parts.append(f"<h3>{n} {e(measure.title)}</h3><p>{e(measure.tagline)}</p><p>{e(measure.description)}</p>")
        for project in measure.projects:
            parts.append(f"<h4>◆{e(project.title)}</h4><p>{e(project.description)}</p><ul>")
            parts += [f"<li>・{e(item)}</li>" for item in project.items]
            parts.append("</ul>")
            parts += [f"<figure><img src='p.jpg' alt=''><figcaption>{e(c)}</figcaption></figure>"
                      for c in project.captions]
    parts.append("<h2>Ⅲ 目標達成に向けた組織運営</h2><h3>区民の皆様の声を聴く区役所</h3>"
                 "<p>窓口での一言を大切にし、分かりやすい説明に努めます。</p>")
    parts.append("<h3>【参考】区で展開される主な局事業</h3><table><tr><th>事業名</th><th>内容</th><th>所管局</th></tr>")
    parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in BUREAU_ROWS]
    parts.append("</table></main><footer>栄区役所</footer></body></html>")
    return "".join(parts)


FONT = "HeiseiKakuGo-W5"


def write_pdf(path: Path, columns: int = 1) -> None:
    """The plan as PDF pages (A4) in one or two columns, lines broken to the column's width, written
    with a Japanese CID font built into reportlab (no font file needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    size, leading = 9, 13
    width, height = A4
    margin = 40
    column_width = (width - 2 * margin - 20 * (columns - 1)) / columns
    chars = int(column_width // size)
    # The bureau table is left out of the PDF: a PDF table has no cell boundaries in its text.
    lines = text_lines(TEXT_LAYOUTS[0], width=chars)
    lines = lines[: lines.index("【参考】区で展開される主な局事業")]
    pages: list[list[tuple[float, float, str]]] = [[]]
    column, y = 0, height - margin
    for line in lines:
        if y < margin:
            column += 1
            y = height - margin
            if column == columns:
                pages.append([])
                column = 0
        if line:
            pages[-1].append((y, margin + column * (column_width + 20), line))
        y -= leading
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for page in pages:
        # Drawn across the page line by line, as many layout programs write a page: the columns'
        # lines are interleaved in the file, and only their positions tell the columns apart.
        for y, x, line in sorted(page, key=lambda p: (-p[0], p[1])):
            pdf.setFont(FONT, size)
            pdf.drawString(x, y, line)
        pdf.showPage()
    pdf.save()


def expected(layout_numbering: str = "fullwidth", projects_as_list: bool = False, with_bureaus: bool = True) -> dict:
    """The finished record every layout's draft is compared with (the fields the score reads)."""
    measures = []
    for n, measure in enumerate(MEASURES, start=1):
        number = printed_number(layout_numbering, n)
        projects = []
        for project in measure.projects:
            if projects_as_list:
                projects.append({"marker": "・", "title": project.title})
            else:
                projects.append({"title": project.title, "description": [project.description],
                                 "items": list(project.items), "captions": list(project.captions)})
        measures.append({"number": number, "title": measure.title, "tagline": measure.tagline,
                         "description": [measure.description], "projects": projects})
    record = {"document": {"ward": WARD}, "plan": {"measures": measures}}
    if with_bureaus:
        keys = {"環境創造局": "kankyo-sozo", "道路局": "doro", "教育委員会事務局": "kyoiku"}
        record["bureau_projects"] = [{"title": t, "content": c, "bureaus_printed": b, "bureaus": [keys[b]]}
                                     for t, c, b in BUREAU_ROWS]
    return record
