"""Drafting a source record from a document as a contributor finds it (PDF, HTML page, text).

``extract`` turns the document into lines of text, ``layout`` reads the typographic cues of a
line (numbering, bullets, headings), ``draft`` builds a record from the lines, ``suggest``
proposes the keys only a person can confirm, ``write`` writes the record as YAML with a
``# TODO`` beside every field a person must decide, and ``naming`` computes the file names.
Nothing here is keyed on one document or ward: the rules are the cues a printed plan uses.
"""
