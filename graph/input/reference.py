"""The reference tables: wards, city, bureaus, section types, policy areas, the Medium-Term Plan.

None of this comes from the five documents; each table in ``graph/reference/`` says where it
comes from, and the reference graph states that source (``dcterms:source``) on every scheme and
table. This module reads and checks the tables; :mod:`kusei.graph.mapping.reference` maps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.error import MarkedYAMLError

from kusei.graph.input import yamlsafe
from kusei.graph.input.record import RecordError, RecordErrors

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def check_digit_ok(code: str) -> bool:
    """全国地方公共団体コード: the 6th digit is (11 - Σ weight·digit mod 11) mod 10, weights 6..2."""
    if len(code) != 6 or not code.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10 == int(code[5])


def _load(name: str, directory: Path) -> dict:
    # Contributors extend these tables too: read them with the same bounds as a record.
    try:
        return yamlsafe.load(directory / name, typ="safe")  # type: ignore[no-any-return]
    except yamlsafe.UnsafeYAML as exc:
        raise RecordErrors([RecordError(name, exc.line, "(yaml)", exc.reason)]) from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RecordErrors([RecordError(name, mark.line + 1 if mark else None, "(yaml)",
                                        exc.problem or exc.context or str(exc))]) from exc


@dataclass
class Reference:
    directory: Path = REFERENCE_DIR
    wards: dict = field(init=False)
    bureaus: list = field(init=False)
    section_types: list = field(init=False)
    policy_areas: list = field(init=False)
    mtp: dict = field(init=False)
    city: dict = field(init=False)
    # Where each table comes from (its ``source``), stated on what the reference graph makes of it.
    ward_source: str = field(init=False)
    bureau_source: str = field(init=False)
    section_source: str = field(init=False)

    def __post_init__(self) -> None:
        table = _load("wards.yaml", self.directory)
        self.city = table["city"]
        self.wards = {w["code"]: w for w in table["wards"]}
        self.ward_source = table["source"]
        bureaus = _load("bureaus.yaml", self.directory)
        self.bureaus, self.bureau_source = bureaus["bureaus"], bureaus["source"]
        sections = _load("section_types.yaml", self.directory)
        self.section_types, self.section_source = sections["types"], sections["source"]
        self.policy_areas = _load("policy_areas.yaml", self.directory)["areas"]
        self.mtp = _load("mtp.yaml", self.directory)
        for code in [self.city["code"], *self.wards]:
            if not check_digit_ok(code):
                raise RecordError("wards.yaml", None, "code", f"{code} fails the check digit")

    @property
    def section_keys(self) -> frozenset[str]:
        return frozenset(s["key"] for s in self.section_types)

    @property
    def bureau_keys(self) -> frozenset[str]:
        return frozenset(b["key"] for b in self.bureaus)

    def ward(self, code: str) -> dict | None:
        return self.wards.get(code)

    @staticmethod
    def unknown_ward(file: str, line: int | None, code: str) -> RecordError:
        return RecordError(file, line, "document.ward", f"{code} is not a Yokohama ward code (wards.yaml)")
