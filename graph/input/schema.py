"""The schema of a source record: what each field of a record file holds, as pydantic models.

A record transcribes what a document prints. Every text field holds the printed text with
line breaks and layout noise removed; where the print has a slip, the field is written as
``{printed: ..., corrected: ..., note: ...}`` so the clean-up is visible and never silent.
Reading a file into these models, and reporting its problems, is ``kusei.graph.input.record``'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
WardCode = Annotated[str, StringConstraints(pattern=r"^14\d{4}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Corrected(Strict):
    """A printed text with an explicit clean-up beside it (OCR slip, typo)."""

    printed: NonEmpty
    corrected: NonEmpty
    note: NonEmpty


Text = NonEmpty | Corrected


class TitledItem(Strict):
    """A bullet printed as "title ～ description" (信頼される行政サービスの提供 ～ 戸籍・住民登録…):
    the two parts apart, each as printed."""

    title: Text
    description: Text


Item = Text | TitledItem


def printed(text: Text) -> str:
    return text.printed if isinstance(text, Corrected) else text


class MTPReference(Strict):
    """A Medium-Term Plan reference printed beside a project, e.g. <中期計画:テーマ03 戦略5 政策26>."""

    printed: Text
    theme: Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None = None
    strategy: int | None = Field(default=None, ge=1, le=9)
    policies: list[Annotated[int, Field(ge=1, le=38)]] = []


class BasicStrategyCitation(Strict):
    """A Medium-Term Plan basic-strategy perspective a measure cites (港北区: 中期計画 基本戦略)."""

    printed: Text
    ref: Key  # key in graph/reference/mtp.yaml perspectives


class Project(Strict):
    """A main project or initiative (◆, ○, ①, ●, ・ items)."""

    title: Text
    marker: str | None = None  # the printed bullet, e.g. "◆", "○", "①", "●", "・"
    description: list[Text] = []  # paragraphs as printed
    items: list[Item] = []  # bullets printed under the project, in order
    mtp: MTPReference | None = None
    sdgs: list[Annotated[int, Field(ge=1, le=17)]] = []  # interpretation: SDG goals it serves
    captions: list[Text] = []  # photo captions printed with it
    line: int | None = None  # optional hint where the title is printed


class Measure(Strict):
    """A measure (施策) or pillar (柱) of the plan, numbered or not."""

    number: str | None = None  # as printed ("1", "１"); None when unnumbered
    group: Text | None = None  # printed heading of the group the measure stands in
    title: Text
    tagline: Text | None = None
    description: list[Text] = []
    items: list[Item] = []  # summary bullets printed under the measure
    mtp_basic_strategy: list[BasicStrategyCitation] = []
    policy_areas: list[Key] = Field(min_length=1)  # interpretation: keys of policy_areas.yaml
    projects: list[Project] = []
    captions: list[Text] = []
    line: int | None = None


class Banner(Strict):
    """A theme a plan puts up above its measures, unnumbered and outside their groups (金沢区
    FY2014: 目指せ！環境未来都市). It is not a measure, though projects and columns may stand under it."""

    title: Text
    description: list[Text] = []
    policy_areas: list[Key] = []  # interpretation: keys of policy_areas.yaml
    projects: list[Project] = []
    captions: list[Text] = []
    line: int | None = None


class BasicGoal(Strict):
    title: Text
    subtitle: Text | None = None
    statements: list[Text] = []
    captions: list[Text] = []
    line: int | None = None


class OperationItem(Strict):
    """An item of how the office runs itself (組織運営, 行動指針, 職場の力, 仕事力 …)."""

    group: Text | None = None  # printed heading of the group, e.g. "行動指針 ～区民の皆様のために～"
    number: str | None = None
    title: Text | None = None
    description: list[Text] = []
    items: list[Item] = []
    line: int | None = None


class Column(Strict):
    """A column or featured box (コラム, 『…』 boxes)."""

    measure: str | None = None  # number (or "u<order>") of the measure it is printed under
    banner: int | None = Field(default=None, ge=1)  # or the order of the banner it is printed under
    title: Text
    description: list[Text] = []
    items: list[Item] = []
    captions: list[Text] = []
    line: int | None = None


class Mascot(Strict):
    key: Key
    name: Text
    role: Text | None = None  # printed role, e.g. "金沢区幸せお届け大使"
    line: int | None = None


class Section(Strict):
    """A ward-office section (課, 区会計室, 保育園, 土木事務所)."""

    key: Key  # key in graph/reference/section_types.yaml
    name: Text  # as printed, e.g. "保育園(和泉・北上飯田)"
    mission: Text | None = None
    # The printed number of the measure under which the document prints this section, if any.
    measure: str | None = None
    line: int | None = None


class ContactPoint(Strict):
    key: Key
    topic: Text | None = None  # what it is the contact for, as printed
    section: Key | None = None  # section key, when the unit belongs to a listed section
    unit: Text  # as printed, e.g. "区政推進課企画調整係"
    room: Text | None = None
    phone: Text | None = None
    fax: Text | None = None
    line: int | None = None


class OnlineAccount(Strict):
    service: Literal["x", "instagram", "youtube", "facebook", "line"]
    # As printed; where the print mangles it (an extraction slip), the correction gives the handle
    # that names the account, and the account's IRI is built from it.
    handle: Annotated[str, StringConstraints(pattern=r"^@[A-Za-z0-9_.]+$")] | Corrected
    label: Text  # as printed, e.g. "金沢区 X (Twitter)"
    line: int | None = None


class Population(Strict):
    as_of_printed: Text  # e.g. "令和6年5月1日現在"
    as_of: dt.date
    population_printed: Text  # e.g. "194,207人"
    population: int = Field(gt=0)
    households_printed: Text | None = None
    households: int | None = Field(default=None, gt=0)
    line: int | None = None


class WardSymbols(Strict):
    flower_printed: Text | None = None  # the whole printed line, e.g. "区の花：ウメ"
    flower: Text | None = None
    tree_printed: Text | None = None
    tree: Text | None = None


class BureauProject(Strict):
    """A city-bureau project carried out in the ward (旭区's table)."""

    title: Text
    content: Text
    bureaus_printed: Text  # the responsible-bureau cell as printed
    bureaus: list[Key] = Field(min_length=1)  # keys in graph/reference/bureaus.yaml
    line: int | None = None


class FacilityProject(Strict):
    kind: Literal["facility", "infrastructure"]
    title: Text
    description: list[Text] = []
    captions: list[Text] = []
    line: int | None = None


class Campaign(Strict):
    title: Text
    description: list[Text] = []
    items: list[Item] = []  # steps, prizes … as printed, in order
    line: int | None = None


class Notice(Strict):
    title: Text
    description: list[Text] = []
    line: int | None = None


class FiscalYear(Strict):
    printed: Text | None = None  # era form as printed, e.g. "令和6年度"; None when not printed
    year: int = Field(ge=1989, le=2100)  # Western fiscal year (April to March)
    inferred: bool = False
    reason: str | None = None  # editorial, required when inferred


class Letter(Strict):
    """A cover letter printed with the plan (泉区)."""

    title: Text
    issuer: Text
    issued_printed: Text
    issued: dt.date
    addressee: Text
    body: list[Text] = []
    line: int | None = None


class Document(Strict):
    file: NonEmpty
    ward: WardCode
    kind: Literal["newsletter", "policy", "report"]
    title: Text | None = None
    issue_number: Text | None = None  # e.g. "No.320"
    issue_month: Text | None = None  # e.g. "6月号"
    origin: NonEmpty  # editorial: where the document comes from
    licence: NonEmpty  # editorial: what is known of its licence
    # Editorial: the id (16-hex part of the source file name) of the document this one replaces
    # as the plan of its ward and year (a corrected or reissued print). Without it, a plan
    # already published from another document is an error: two documents for one plan is most
    # often a wrong ward or year.
    supersedes: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = None


class Plan(Strict):
    title: Text | None = None
    fiscal_year: FiscalYear
    preface: list[Text] = []
    mtp_basic_strategy: Text | None = None  # printed quote of the city basic strategy, if cited
    basic_goal: BasicGoal
    banners: list[Banner] = []
    measures_intro: list[Text] = []
    measures: list[Measure] = Field(min_length=1)
    operation: list[OperationItem] = []
    columns: list[Column] = []


class Record(Strict):
    document: Document
    letter: Letter | None = None
    plan: Plan
    mascots: list[Mascot] = []
    sections: list[Section] = []
    contacts: list[ContactPoint] = []
    accounts: list[OnlineAccount] = []
    population: Population | None = None
    ward_symbols: WardSymbols | None = None
    bureau_projects: list[BureauProject] = []
    facility_projects: list[FacilityProject] = []
    campaigns: list[Campaign] = []
    notices: list[Notice] = []
