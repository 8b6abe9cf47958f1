// SPARQL for the editor: the stream mode of @codemirror/legacy-modes (kept by CodeMirror's own
// maintainers), chosen over codemirror-lang-sparql's Lezer grammar by measurement (README.md).
import { StreamLanguage } from "@codemirror/language";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";

export function sparqlLanguage() {
  return StreamLanguage.define(sparql);
}
