// The query page's editor: CodeMirror 6 over the page's <textarea id="query">, which stays the
// form's field (kept in step with the editor), so the page works the same with or without this
// bundle. static/query.js runs the queries; this file only edits. The two talk through events on
// the textarea: "kusei:replace" (query.js put a new text in it) and "kusei:error" (the endpoint's
// 400 gave a line and column to mark).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, syntaxHighlighting, defaultHighlightStyle, indentOnInput } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { sparqlLanguage } from "./language.js";

const textarea = document.getElementById("query");
const form = document.getElementById("query-form");

// --- completion ---------------------------------------------------------------------------------

const cache = new Map();
async function ask(kind, prefix) {
  const key = kind + "\u0000" + prefix;
  if (!cache.has(key)) {
    const url = `/query/complete?kind=${kind}&prefix=${encodeURIComponent(prefix)}`;
    cache.set(key, fetch(url).then((r) => (r.ok ? r.json() : { items: [] })).then((d) => d.items)
      .catch(() => []));
  }
  return cache.get(key);
}

// The prefixes a PREFIX line of the text declares.
function declared(text) {
  const found = new Map();
  for (const m of text.matchAll(/PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi)) found.set(m[1] || "", m[2]);
  return found;
}

// A PREFIX line for `prefix`, unless the text has one: after the last PREFIX line, else at the top.
function declaration(state, prefix, namespace) {
  const text = state.doc.toString();
  if (!prefix || !namespace || declared(text).has(prefix)) return [];
  let at = 0;
  for (const m of text.matchAll(/^[ \t]*PREFIX\s[^\n]*\n?/gim)) at = m.index + m[0].length;
  if (at === 0) {
    // After the leading comment lines (title, description, #view …), which describe the query.
    for (const m of text.matchAll(/^#[^\n]*\n/gm)) {
      if (m.index !== at) break;
      at = m.index + m[0].length;
    }
  }
  const line = `PREFIX ${prefix}: <${namespace}>\n`;
  return [{ from: at, insert: at > 0 && text[at - 1] !== "\n" ? "\n" + line : line }];
}

// Where the word at the cursor stands: after `a` (a class), where a predicate goes, or elsewhere.
function position(before) {
  const code = before.replace(/#[^\n]*/g, " ").replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, "\"\"");
  const tokens = code.split(/(?<=[{};.,])|(?=[{};.,])|\s+/).filter((t) => t && t.trim());
  tokens.pop(); // the word being typed
  const last = tokens[tokens.length - 1];
  if (last === "a" || last === "rdf:type") return "class";
  if (last === ";" || last === undefined) return "property";
  // One term since the start of a triple: the next is its predicate.
  let count = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (["{", "}", "."].includes(tokens[i])) break;
    count++;
  }
  return count === 1 ? "property" : "other";
}

function termOption(item, view) {
  const labels = [item.ja, item.en].filter(Boolean).join(" / ");
  return {
    label: item.label,
    type: item.kind === "class" ? "class" : "property",
    detail: labels,
    info: `${item.iri}\n${item.uses} uses in the data`,
    boost: 0,
    apply: (editorView, completion, from, to) => {
      const changes = [{ from, to, insert: item.label }, ...declaration(editorView.state, item.prefix, item.namespace)];
      editorView.dispatch({ changes, selection: { anchor: from + item.label.length }, userEvent: "input.complete" });
      // The PREFIX line, if one was added above, moved the cursor's target: map it.
      const added = changes.slice(1).reduce((n, c) => n + (c.from <= from ? c.insert.length : 0), 0);
      if (added) editorView.dispatch({ selection: { anchor: from + added + item.label.length } });
    },
  };
}

async function sparqlCompletions(context) {
  const word = context.matchBefore(/[\w:\-.\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  const text = word.text;
  const before = context.state.sliceDoc(0, word.to);
  // Inside a PREFIX line, a variable, a string or a comment, nothing is offered.
  const line = context.state.doc.lineAt(word.from);
  const lineBefore = line.text.slice(0, word.from - line.from);
  if (/^\s*PREFIX\b/i.test(lineBefore) && !/<[^>]*$/.test(lineBefore) && lineBefore.trim().length > 6) return null;
  if (/[?$]$/.test(lineBefore) || /#/.test(lineBefore.replace(/<[^>]*>|"[^"]*"/g, ""))) return null;
  if ((lineBefore.match(/"/g) || []).length % 2 === 1) return null;

  // Japanese text: resources by label (typing 金沢 offers the ward's IRI), then terms by label.
  if (/[^\x00-\x7f]/.test(text)) {
    const [resources, terms] = await Promise.all([ask("resource", text), ask("term", text)]);
    return {
      from: word.from,
      options: [
        ...resources.map((r) => ({
          label: `<${r.iri}>`, displayLabel: r.label, type: "variable",
          detail: `${r.type} · <${r.iri.replace(/^https?:\/\/[^/]+/, "")}>`, info: [r.ja, r.en].filter(Boolean).join(" / "),
          apply: `<${r.iri}>`,
        })),
        ...terms.map((t) => termOption(t)),
      ],
      filter: false,
    };
  }
  if (!text.includes(":")) {
    const prefixes = await ask("prefix", text);
    if (!prefixes.length) return null;
    return {
      from: word.from,
      options: prefixes.map((p) => ({
        label: p.label, type: "namespace", detail: p.detail,
        apply: (view, completion, from, to) => {
          const changes = [{ from, to, insert: p.label }, ...declaration(view.state, p.label.slice(0, -1), p.iri)];
          const added = changes.slice(1).reduce((n, c) => n + (c.from <= from ? c.insert.length : 0), 0);
          view.dispatch({ changes, selection: { anchor: from + added + p.label.length }, userEvent: "input.complete" });
          // Go straight on to the terms of that namespace.
          import("@codemirror/autocomplete").then((m) => m.startCompletion(view));
        },
      })),
      validFor: /^[\w-]*$/,
    };
  }
  const where = position(before);
  const kind = where === "class" ? "class" : where === "property" ? "property" : "term";
  const items = await ask(kind, text);
  return { from: word.from, options: items.map((t) => termOption(t)), filter: false };
}

// --- the error position -------------------------------------------------------------------------

function markError(view, line, column, message) {
  const doc = view.state.doc;
  if (!line || line > doc.lines) return;
  const at = doc.line(line);
  const from = Math.min(at.from + Math.max(0, (column || 1) - 1), at.to);
  const to = Math.min(from + 1, doc.length);
  view.dispatch(setDiagnostics(view.state, [{ from, to: Math.max(to, from), severity: "error", message }]));
  view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
}

// --- the editor ---------------------------------------------------------------------------------

let syncing = false; // the editor is writing into the text box: its input event is our own

function start() {
  if (!textarea || !form) return;
  const run = () => { form.requestSubmit(); return true; };
  // The editor lives in a shadow root: there CodeMirror's styles go into a constructed style
  // sheet, which the page's Content-Security-Policy (style-src 'self', no inline <style>) allows.
  const host = document.createElement("div");
  host.className = "query-editor-host";
  const shadow = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    root: shadow,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        sparqlLanguage(), syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(), closeBrackets(), highlightActiveLine(), lintGutter(), EditorView.lineWrapping,
        autocompletion({ override: [sparqlCompletions], activateOnTyping: true, icons: false }),
        // Tab is left to the browser (it moves the focus on: no keyboard trap); completion
        // is accepted with Enter, as the autocomplete keymap has it.
        keymap.of([{ key: "Mod-Enter", run }, ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap,
          ...completionKeymap]),
        // aria-labelledby cannot reach the page's <label> from inside the shadow root.
        EditorView.contentAttributes.of({ "aria-label": "SPARQL クエリ query", "aria-multiline": "true" }),
        EditorView.theme({
          "&": { border: "1px solid #8a9099", borderRadius: "4px", background: "#fff", fontSize: "14px" },
          "&.cm-focused": { outline: "2px solid #0b5394", outlineOffset: "1px" },
          // No height limit and wrapped lines: the editor grows with its text instead of becoming a
          // scrolled region, which axe-core counts as unreachable by keyboard (the scroller itself
          // takes no focus; the text inside it does).
          ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", minHeight: "16em" },
          ".cm-tooltip-autocomplete ul li[aria-selected]": { background: "#0b5394", color: "#fff" },
          ".cm-completionDetail": { marginLeft: "0.8em", fontStyle: "normal", color: "inherit", opacity: "0.85" },
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          syncing = true;
          try { textarea.dispatchEvent(new Event("input")); } finally { syncing = false; }
          view.dispatch(setDiagnostics(update.state, []));
        }),
      ],
    }),
  });
  shadow.appendChild(view.dom);
  textarea.parentNode.insertBefore(host, textarea);
  // The text box stays in the form (it is what is submitted) but leaves the tab order and the
  // accessibility tree: the editor is the one field people use. Text put into it by a script
  // (or a test driving the page) still reaches the editor through its input event.
  textarea.classList.add("visually-hidden");
  textarea.tabIndex = -1;
  textarea.setAttribute("aria-hidden", "true");
  textarea.addEventListener("input", () => {
    if (syncing || textarea.value === view.state.doc.toString()) return;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value } });
  });
  textarea.addEventListener("kusei:replace", () => {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value }, selection: { anchor: 0 } });
    view.focus();
  });
  textarea.addEventListener("kusei:error", (event) => {
    const { line, column, message } = event.detail || {};
    markError(view, line, column, message || "");
  });
  const help = document.getElementById("editor-help");
  if (help) help.hidden = false;
  window.kuseiEditor = view; // for the page's tests
}

start();
