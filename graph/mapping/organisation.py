"""Mapping of the document, its cover letter, and the ward office's people-facing parts:
mascots, sections, contact points and online accounts."""

from __future__ import annotations

import re

import pyoxigraph as ox

from kusei.graph.input.record import Corrected, printed
from kusei.graph.mapping.context import Context
from kusei.namespaces import DCTERMS, FOAF, ORG, PROV, RDFS, SCHEMA, TYPE, iri, lit, measure_key, typed

SERVICE_HOMEPAGES = {
    "x": "https://x.com/",
    "instagram": "https://www.instagram.com/",
    "youtube": "https://www.youtube.com/",
    "facebook": "https://www.facebook.com/",
    "line": "https://line.me/",
}


# Japanese for the licence notes records use word for word.
LICENCE_JA = {"No licence is printed in the document.": "資料にはライセンスの表示がない。"}


def map_document(cx: Context, file_sha256: str) -> None:
    e, t, doc = cx.emit, cx.terms, cx.record.document
    node = cx.document
    e.typed_entity(node, t.kusei("SourceDocument"), ox.NamedNode(FOAF + "Document"))
    e.set_lines(node, 1, cx.source_line_count)
    e.text(node, ox.NamedNode(DCTERMS + "title"), doc.title, ("document", "title"))
    year = cx.record.plan.fiscal_year.year
    label = printed(doc.title) if doc.title else f"{cx.ward_name} 区運営方針 ({year})"
    e.label(node, label)
    e.label(node, f"Source document: {cx.ward_en} management policy FY{year}", "en")
    e.kusei(node, "fileName", typed(doc.file, "string"))
    e.kusei(node, "sha256", typed(file_sha256, "hexBinary"))
    e.editorial_kusei(node, "documentKind", typed(doc.kind, "string"))
    e.text(node, t.kusei("issueNumber"), doc.issue_number, ("document", "issue_number"))
    e.text(node, t.kusei("issueMonth"), doc.issue_month, ("document", "issue_month"))
    e.editorial_kusei(node, "origin", lit(" ".join(doc.origin.split()), "en"))
    # The records state origin and licence in English; pages are Japanese first, so a Japanese
    # note goes beside: what the record's structured fields say, not a translation of its prose.
    origin_ja = f"{label}({cx.ward_name}、{year}年度の資料)。詳しい出所は英語の注記のとおり。"
    e.editorial_kusei(node, "origin", lit(origin_ja, "ja"))
    e.editorial_kusei(node, "licenceNote", lit(" ".join(doc.licence.split()), "en"))
    licence_ja = LICENCE_JA.get(" ".join(doc.licence.split()))
    if licence_ja:
        e.editorial_kusei(node, "licenceNote", lit(licence_ja, "ja"))
    publisher = e.add if cx.prints_issuer else e.editorial_add
    publisher(node, ox.NamedNode(DCTERMS + "publisher"), cx.office)
    publisher(node, ox.NamedNode(PROV + "wasAttributedTo"), cx.office)
    e.add(node, ox.NamedNode(DCTERMS + "spatial"), cx.ward_area)


def map_letter(cx: Context) -> None:
    letter = cx.record.letter
    if letter is None:
        return
    e, t = cx.emit, cx.terms
    node = iri(cx.document, "letter")
    e.typed_entity(node, t.kusei("CoverLetter"))
    e.part_of(node, cx.document)
    path = ("letter",)
    e.text(node, ox.NamedNode(DCTERMS + "title"), letter.title, (*path, "title"))
    e.label(node, printed(letter.title))
    e.text(node, t.kusei("issuerPrinted"), letter.issuer, (*path, "issuer"))
    e.text(node, t.kusei("issuedPrinted"), letter.issued_printed, (*path, "issued_printed"))
    e.add(node, ox.NamedNode(DCTERMS + "issued"), typed(letter.issued.isoformat(), "date"))
    e.text(node, t.kusei("addressee"), letter.addressee, (*path, "addressee"))
    e.paragraphs(node, ox.NamedNode(DCTERMS + "description"), letter.body, (*path, "body"))


def map_mascots(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    for index, mascot in enumerate(cx.record.mascots):
        path = ("mascots", index)
        node = t.id(f"mascot/{cx.ward}/{mascot.key}")
        e.typed_entity(node, t.kusei("Character"))
        e.text(node, ox.NamedNode(SCHEMA + "name"), mascot.name, (*path, "name"))
        e.label(node, printed(mascot.name))
        e.text(node, t.kusei("role"), mascot.role, (*path, "role"))
        # A printed role (区マスコットキャラクター, 幸せお届け大使) makes the character the ward's
        # mascot; a name printed alone beside a picture does not say so, and Kusei's reading goes
        # to the editorial graph.
        state = e.add if mascot.role is not None else e.editorial_add
        state(node, TYPE, t.kusei("Mascot"))
        state(node, t.kusei("mascotOf"), cx.ward_area)


def map_sections(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    seen: set[str] = set()
    for index, section in enumerate(cx.record.sections):
        path = ("sections", index)
        if section.key not in cx.section_types:
            cx.fail((*path, "key"), f"unknown section type {section.key!r} (see reference/section_types.yaml)")
        if section.key in seen:
            cx.fail((*path, "key"), f"section {section.key!r} is listed twice")
        seen.add(section.key)
        node = t.section(cx.ward, section.key)
        e.typed_entity(node, t.kusei("Section"), ox.NamedNode(ORG + "OrganizationalUnit"))
        e.add(node, ox.NamedNode(ORG + "subOrganizationOf"), cx.office)
        e.add(cx.office, ox.NamedNode(ORG + "hasSubOrganization"), node)
        e.kusei(node, "sectionType", t.id(f"section-type/{section.key}"))
        e.text(node, ox.NamedNode(SCHEMA + "name"), section.name, (*path, "name"))
        e.label(node, f"{cx.ward_name} {printed(section.name)}")
        e.text(node, ox.NamedNode(ORG + "purpose"), section.mission, (*path, "mission"))
        if section.measure is not None:
            numbers = {measure_key(m.number) for m in cx.record.plan.measures if m.number}
            key = measure_key(section.measure)
            if key not in numbers:
                cx.fail((*path, "measure"), f"no measure {section.measure!r} in this plan")
            # In the document graph: the link is this document's, the section outlives the plan.
            e.kusei(node, "printedUnder", iri(cx.plan, "measure", key))


def map_contacts(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    for index, contact in enumerate(cx.record.contacts):
        path = ("contacts", index)
        node = iri(cx.plan, "contact", contact.key)
        e.typed_entity(node, ox.NamedNode(SCHEMA + "ContactPoint"))
        e.kusei(node, "plan", cx.plan)
        e.add(cx.office, ox.NamedNode(SCHEMA + "contactPoint"), node)
        e.text(node, ox.NamedNode(SCHEMA + "name"), contact.unit, (*path, "unit"))
        e.label(node, printed(contact.unit))
        e.text(node, t.kusei("topic"), contact.topic, (*path, "topic"))
        e.text(node, t.kusei("room"), contact.room, (*path, "room"))
        e.text(node, ox.NamedNode(SCHEMA + "telephone"), contact.phone, (*path, "phone"))
        e.text(node, ox.NamedNode(SCHEMA + "faxNumber"), contact.fax, (*path, "fax"))
        if contact.section is not None:
            if contact.section not in cx.section_types:
                cx.fail((*path, "section"), f"unknown section type {contact.section!r}")
            e.kusei(node, "section", t.section(cx.ward, contact.section))


def map_accounts(cx: Context) -> None:
    e, t = cx.emit, cx.terms
    for index, account in enumerate(cx.record.accounts):
        path = ("accounts", index)
        handle = account.handle.corrected if isinstance(account.handle, Corrected) else account.handle
        if not re.fullmatch(r"@[A-Za-z0-9_.]+", handle):
            cx.fail((*path, "handle"), f"{handle!r} is not an @handle")
        name = handle.removeprefix("@")
        node = t.id(f"account/{account.service}/{name}")
        e.typed_entity(node, ox.NamedNode(FOAF + "OnlineAccount"))
        e.add(node, ox.NamedNode(FOAF + "accountName"), lit(name))
        e.add(node, ox.NamedNode(FOAF + "accountServiceHomepage"),
              ox.NamedNode(SERVICE_HOMEPAGES[account.service]))
        e.text(node, t.kusei("printedHandle"), account.handle, (*path, "handle"))
        e.text(node, ox.NamedNode(RDFS + "label"), account.label,
               (*path, "label"))
        e.add(cx.office, ox.NamedNode(FOAF + "account"), node)
