"""Turning RDF terms into what a page shows: labels in Japanese and English, CURIEs, local links."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

import pyoxigraph as ox

from kusei.namespaces import DC, DCTERMS, RDF, RDFS, SCHEMA, SDG, SDMX_DIM, SKOS, STANDARD_PREFIXES, VANN, XSD

__all__ = ["DCTERMS", "RDF", "RDFS", "SCHEMA", "SKOS", "XSD", "AnyTerm", "Labels", "Namer", "lexical"]

RDF_TYPE = RDF + "type"
# Most specific name first: a measure's rdfs:label is its name, dcterms:title the printed heading.
LABEL_PREDICATES = (RDFS + "label", SKOS + "prefLabel", SCHEMA + "name", DCTERMS + "title")
# Japanese first (the documents' language), then its readings, then English.
LANG_ORDER = {"ja": 0, "ja-hrkt": 1, "ja-latn": 2, "en": 3, "": 5}

# IRI-safe characters left as they are when an IRI path becomes an href.
PATH_SAFE = "/:@!$&'()*+,;=-._~%"
# The only schemes an IRI from the data may become a link with: a `javascript:` or `data:` IRI is
# a valid IRI, and as an href it would run or show whatever its author wrote.
LINK_SCHEMES = ("http", "https")


def linkable(iri: str) -> bool:
    """Whether ``iri`` may be an href: http(s) only (the scheme is case-insensitive)."""
    scheme, colon, _ = iri.partition(":")
    return bool(colon) and scheme.lower() in LINK_SCHEMES


# Any term pyoxigraph can hand back; a triple term (RDF 1.2) has no single value, and this data never
# holds one, but the stubs allow it everywhere.
AnyTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def lexical(term: AnyTerm) -> str:
    """A term's value: the IRI, the blank node's id, the literal's text; a triple term as N-Triples."""
    return str(term) if isinstance(term, ox.Triple) else term.value


def lang_rank(lang: str | None) -> int:
    return LANG_ORDER.get((lang or "").lower(), 4)


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts measure/2 before measure/10."""
    # isdecimal, not isdigit: "①" is a digit to Python but no number int() reads.
    return [(0, int(part)) if part.isdecimal() else (1, part) for part in re.split(r"(\d+)", text) if part]


class Labels:
    """Labels of IRIs by language, fed from triples; picks the best one for a language."""

    def __init__(self) -> None:
        self._by_iri: dict[str, dict[str, list[tuple[int, str]]]] = {}

    def add_triples(self, triples: Iterable[ox.Triple]) -> None:
        for triple in triples:
            pred = triple.predicate.value
            if pred in LABEL_PREDICATES and isinstance(triple.object, ox.Literal):
                if isinstance(triple.subject, ox.NamedNode):
                    self.add(triple.subject.value, pred, triple.object)

    def add(self, iri: str, predicate: str, literal: ox.Literal) -> None:
        rank = LABEL_PREDICATES.index(predicate) if predicate in LABEL_PREDICATES else len(LABEL_PREDICATES)
        lang = (literal.language or "").lower()
        self._by_iri.setdefault(iri, {}).setdefault(lang, []).append((rank, literal.value))

    def get(self, iri: str, lang: str = "ja") -> str | None:
        """The label in ``lang``; for Japanese also one without a language tag."""
        langs = self._by_iri.get(iri)
        if not langs:
            return None
        for candidate in (lang, "") if lang == "ja" else (lang,):
            if candidate in langs:
                return min(langs[candidate])[1]
        return None

    def best(self, iri: str) -> str | None:
        """The label to show when one is enough: Japanese, else English, else anything."""
        langs = self._by_iri.get(iri)
        if not langs:
            return None
        lang = min(langs, key=lang_rank)
        return min(langs[lang])[1]


# Shown as CURIEs on pages only (the vocabulary's own metadata uses them); not pre-declared in
# queries, where they would be noise.
DISPLAY_PREFIXES = {"vann": VANN, "dc": DC, "sdg": SDG}


class Namer:
    """CURIEs and hrefs for IRIs, knowing the release's base and the endpoint's prefixes."""

    def __init__(self, base: str, prefixes: Mapping[str, str]) -> None:
        self.base = base.rstrip("/")
        known = {**DISPLAY_PREFIXES, **prefixes}
        # Longest namespace first so kusei: wins over a shorter prefix that also matches.
        self._prefixes = sorted(known.items(), key=lambda item: -len(item[1]))

    def curie(self, iri: str) -> str | None:
        for prefix, namespace in self._prefixes:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if re.fullmatch(r"[A-Za-z_][\w.-]*|", local) and not local.endswith("."):
                    return f"{prefix}:{local}"
        return None

    def local_path(self, iri: str) -> str | None:
        """The path on this server for an IRI under the base, else None."""
        if iri == self.base:
            return "/"
        if iri.startswith(self.base + "/"):
            return quote(iri[len(self.base) :], safe=PATH_SAFE)
        return None

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes: its path here, the IRI itself if http(s), else None (text)."""
        local = self.local_path(iri)
        if local is not None:
            return local
        return iri if linkable(iri) else None

    def short(self, iri: str) -> str:
        """A compact name when no label is known: CURIE, else the path under the base, else the IRI."""
        curie = self.curie(iri)
        if curie:
            return curie
        if iri.startswith(self.base + "/"):
            return iri[len(self.base) :]
        return iri


# Japanese and English labels for the standard terms the data uses. The ontology labels Kusei's
# own terms; these come from other vocabularies, whose published labels are English only, and a
# page must not show a Japanese reader a bare CURIE.
_STANDARD = {**STANDARD_PREFIXES, "sdmx": SDMX_DIM, "vann": VANN}
STANDARD_LABELS: dict[str, tuple[str, str]] = {
    _STANDARD[prefix] + local: (ja, en)
    for prefix, local, ja, en in (
        ("rdf", "type", "種別", "type"),
        ("rdf", "first", "リストの先頭", "first"),
        ("rdf", "rest", "リストの残り", "rest"),
        ("rdfs", "label", "ラベル", "label"),
        ("rdfs", "comment", "注記", "comment"),
        ("rdfs", "domain", "定義域", "domain"),
        ("rdfs", "range", "値域", "range"),
        ("rdfs", "isDefinedBy", "定義元", "is defined by"),
        ("rdfs", "subClassOf", "上位クラス", "subclass of"),
        ("rdfs", "subPropertyOf", "上位プロパティ", "subproperty of"),
        ("owl", "unionOf", "和集合", "union of"),
        ("owl", "versionInfo", "版情報", "version info"),
        ("skos", "prefLabel", "優先ラベル", "preferred label"),
        ("skos", "broader", "上位概念", "broader"),
        ("skos", "closeMatch", "近い概念", "close match"),
        ("skos", "definition", "定義", "definition"),
        ("skos", "hasTopConcept", "最上位概念", "has top concept"),
        ("skos", "topConceptOf", "最上位概念である体系", "top concept of"),
        ("skos", "inScheme", "所属する体系", "in scheme"),
        ("skos", "notation", "記号", "notation"),
        ("dcterms", "title", "表題", "title"),
        ("dcterms", "description", "説明", "description"),
        ("dcterms", "hasPart", "構成要素", "has part"),
        ("dcterms", "isPartOf", "所属", "is part of"),
        ("dcterms", "issued", "発行日", "issued"),
        ("dcterms", "created", "作成日", "created"),
        ("dcterms", "modified", "更新日", "modified"),
        ("dcterms", "creator", "作成者", "creator"),
        ("dcterms", "publisher", "発行者", "publisher"),
        ("dcterms", "identifier", "識別子", "identifier"),
        ("dcterms", "language", "言語", "language"),
        ("dcterms", "license", "ライセンス", "licence"),
        ("dcterms", "source", "出典", "source"),
        ("dcterms", "spatial", "対象地域", "spatial coverage"),
        ("dcterms", "conformsTo", "準拠する規格", "conforms to"),
        ("schema", "name", "名称", "name"),
        ("schema", "position", "順番", "position"),
        ("schema", "contactPoint", "問合せ先", "contact point"),
        ("schema", "containedInPlace", "所在する地域", "contained in place"),
        ("schema", "telephone", "電話番号", "telephone"),
        ("schema", "faxNumber", "FAX 番号", "fax number"),
        ("schema", "organizer", "主催者", "organizer"),
        ("schema", "sameAs", "同一の対象", "same as"),
        ("qb", "dataSet", "データセット", "data set"),
        ("sdmx", "refArea", "対象地域", "reference area"),
        ("sdmx", "refPeriod", "対象時点", "reference period"),
        ("vann", "preferredNamespacePrefix", "推奨接頭辞", "preferred namespace prefix"),
        ("vann", "preferredNamespaceUri", "推奨名前空間", "preferred namespace URI"),
        ("void", "class", "クラス", "class"),
        ("void", "classPartition", "クラス別の部分", "class partition"),
        ("void", "dataDump", "ダンプ", "data dump"),
        ("void", "entities", "実体数", "entities"),
        ("void", "exampleResource", "例となるリソース", "example resource"),
        ("void", "sparqlEndpoint", "SPARQL エンドポイント", "SPARQL endpoint"),
        ("void", "subset", "部分データセット", "subset"),
        ("void", "triples", "トリプル数", "triples"),
        ("void", "uriSpace", "URI 空間", "URI space"),
        ("void", "vocabulary", "使用語彙", "vocabulary"),
        ("spdx", "algorithm", "アルゴリズム", "algorithm"),
        ("spdx", "checksum", "チェックサム", "checksum"),
        ("spdx", "checksumValue", "チェックサム値", "checksum value"),
        ("time", "hasBeginning", "開始", "has beginning"),
        ("time", "hasEnd", "終了", "has end"),
        ("time", "inXSDDate", "日付", "in XSD date"),
        ("dcat", "accessService", "アクセスサービス", "access service"),
        ("dcat", "accessURL", "アクセス URL", "access URL"),
        ("dcat", "byteSize", "バイト数", "byte size"),
        ("dcat", "distribution", "配布物", "distribution"),
        ("dcat", "downloadURL", "ダウンロード URL", "download URL"),
        ("dcat", "endpointURL", "エンドポイント URL", "endpoint URL"),
        ("dcat", "mediaType", "メディア型", "media type"),
        ("dcat", "servesDataset", "提供するデータセット", "serves dataset"),
        ("org", "hasSubOrganization", "下位組織", "has sub-organization"),
        ("org", "subOrganizationOf", "上位組織", "sub-organization of"),
        ("org", "unitOf", "所属組織", "unit of"),
        ("org", "purpose", "所掌", "purpose"),
        ("prov", "wasAttributedTo", "作成主体", "was attributed to"),
        ("prov", "wasDerivedFrom", "派生元", "was derived from"),
        ("prov", "entity", "対象の資料", "entity"),
        ("sd", "name", "グラフ名", "graph name"),
        ("foaf", "account", "アカウント", "account"),
        ("foaf", "accountName", "アカウント名", "account name"),
        ("foaf", "accountServiceHomepage", "サービスのホームページ", "account service homepage"),
        ("foaf", "name", "名前", "name"),
        ("foaf", "Document", "文書", "Document"),
        ("skos", "Concept", "概念", "Concept"),
        ("skos", "ConceptScheme", "概念体系", "Concept scheme"),
        ("org", "OrganizationalUnit", "組織単位", "Organizational unit"),
        ("schema", "GovernmentOrganization", "行政機関", "Government organization"),
        ("schema", "AdministrativeArea", "行政区域", "Administrative area"),
        ("schema", "ContactPoint", "問合せ先", "Contact point"),
        ("foaf", "OnlineAccount", "オンラインアカウント", "Online account"),
        ("dcat", "Distribution", "配布物", "Distribution"),
        ("dcat", "Dataset", "データセット", "Dataset"),
        ("void", "Dataset", "データセット", "Dataset"),
    )
}


def add_standard_labels(labels: Labels) -> None:
    """Give ``labels`` the Japanese and English names of the standard terms it lacks."""
    for iri, (ja, en) in STANDARD_LABELS.items():
        if labels.get(iri, "ja") is None:
            labels.add(iri, RDFS + "label", ox.Literal(ja, language="ja"))
        if labels.get(iri, "en") is None:
            labels.add(iri, RDFS + "label", ox.Literal(en, language="en"))
