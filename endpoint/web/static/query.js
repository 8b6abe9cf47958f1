// The query page: load an example, run it against /sparql, show the result as a table.
// Without this script the page still works as a plain form (the server renders the table).
"use strict";

(function () {
  // application/json last: results never come as it, but errors then arrive as JSON with line/column.
  const RESULT_TYPES = "application/sparql-results+json, application/n-triples;q=0.9, application/json;q=0.1";
  const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";

  const section = document.querySelector(".editor");
  if (!section) return;
  const editor = document.getElementById("query");
  const form = document.getElementById("query-form");
  const runButton = document.getElementById("run");
  const statusBox = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const results = document.getElementById("results");
  const downloads = document.getElementById("downloads");
  const permalink = document.getElementById("permalink");
  const bom = document.getElementById("bom");
  const csvLink = document.getElementById("dl-csv");

  const endpoint = section.dataset.sparql;
  const base = section.dataset.base.replace(/\/$/, "");
  const rowsShown = parseInt(section.dataset.rowsShown, 10) || 1000;
  const prefixes = Object.entries(JSON.parse(section.dataset.prefixes || "{}"))
    .sort((a, b) => b[1].length - a[1].length);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  // IRIs under the base are served by this server, whatever host it runs on.
  function localHref(iri) {
    if (iri === base) return "/";
    if (iri.startsWith(base + "/")) return iri.slice(base.length);
    return iri;
  }

  // CURIE, else the path under the base, else the IRI: what the server-rendered table shows too.
  function shortName(iri) {
    for (const [prefix, namespace] of prefixes) {
      const local = iri.slice(namespace.length);
      if (iri.startsWith(namespace) && /^([A-Za-z_][\w.-]*)?$/.test(local) && !local.endsWith(".")) {
        return prefix + ":" + local;
      }
    }
    if (iri.startsWith(base + "/")) return iri.slice(base.length);
    return iri;
  }

  // The shown IRI with a break opportunity after each "/", so narrow columns break at slashes.
  function iriLink(iri) {
    const link = el("a", { href: localHref(iri), title: iri });
    for (const part of shortName(iri).match(/[^/]*\/?/g)) {
      if (part) link.append(part, el("wbr"));
    }
    return link;
  }

  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.append(iriLink(term.value));
    } else if (term.type === "bnode") {
      td.append(el("span", { class: "bnode-id" }, "_:" + term.value));
    } else {
      td.append(el("span", { class: "literal", lang: term["xml:lang"] }, term.value));
      if (term["xml:lang"]) td.append(" ", el("span", { class: "tag" }, "@" + term["xml:lang"]));
      if (term.datatype && term.datatype !== XSD_STRING && !term["xml:lang"]) {
        td.append(" ", el("span", { class: "tag dt" }, shortName(term.datatype)));
      }
    }
    return td;
  }

  function renderTable(vars, rows) {
    const head = el("tr", null, ...vars.map((v) => el("th", { scope: "col" }, "?" + v)));
    const body = el("tbody");
    for (const row of rows.slice(0, rowsShown)) {
      body.append(el("tr", null, ...vars.map((v) => cell(row[v]))));
    }
    results.replaceChildren(el("table", { class: "result-table" }, el("thead", null, head), body));
  }

  // N-Triples, as the endpoint writes it for CONSTRUCT and DESCRIBE: one triple per line.
  const NT_TERM = /\s*(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)/y;
  function unescapeNt(text) {
    return text.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, esc) => {
      if (esc[0] === "u" || esc[0] === "U") return String.fromCodePoint(parseInt(esc.slice(1), 16));
      return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[esc] ?? esc;
    });
  }
  function ntTerm(token) {
    if (token.startsWith("<")) return { type: "uri", value: unescapeNt(token.slice(1, -1)) };
    if (token.startsWith("_:")) return { type: "bnode", value: token.slice(2) };
    const end = token.lastIndexOf('"');
    const term = { type: "literal", value: unescapeNt(token.slice(1, end)) };
    const rest = token.slice(end + 1);
    if (rest.startsWith("@")) term["xml:lang"] = rest.slice(1);
    else if (rest.startsWith("^^")) term.datatype = rest.slice(3, -1);
    return term;
  }
  function parseNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.trim().startsWith("#")) continue;
      NT_TERM.lastIndex = 0;
      const terms = [];
      for (let i = 0; i < 3; i++) {
        const match = NT_TERM.exec(line);
        if (!match) break;
        terms.push(ntTerm(match[1]));
      }
      if (terms.length === 3) rows.push({ subject: terms[0], predicate: terms[1], object: terms[2] });
    }
    return rows;
  }

  function errorPosition(message, data) {
    if (data && Number.isInteger(data.line)) return [data.line, data.column];
    const match = /line\D{0,3}(\d+)\D{1,12}col(?:umn)?\D{0,3}(\d+)/i.exec(message) || /\b(\d+):(\d+)\b/.exec(message);
    return match ? [parseInt(match[1], 10), parseInt(match[2], 10)] : [null, null];
  }

  function showError(status, text) {
    let data = null;
    let message = text.trim();
    try {
      data = JSON.parse(text);
      if (data && typeof data === "object") message = String(data.message || data.error || text);
    } catch (e) {
      data = null;
    }
    const [line, column] = errorPosition(message, data);
    const heading = el("p", null, el("strong", null, "エラー ", el("span", { lang: "en" }, "Error"), " " + status));
    if (line) heading.append(` · ${line} 行 ${column} 列 `, el("span", { lang: "en" }, `line ${line}, column ${column}`));
    const parts = [heading, el("pre", { class: "message" }, message)];
    const lines = editor.value.split("\n");
    if (line && line <= lines.length) {
      let context = "";
      for (let n = Math.max(1, line - 1); n <= line; n++) context += `${String(n).padStart(3)} | ${lines[n - 1]}\n`;
      if (column) context += " ".repeat(6 + column - 1) + "^";
      parts.push(el("pre", { class: "context" }, context));
      // Put the caret where the parser stopped, so the fix is one keystroke away.
      let offset = 0;
      for (let n = 1; n < line; n++) offset += lines[n - 1].length + 1;
      offset += Math.max(0, (column || 1) - 1);
      editor.setSelectionRange(offset, Math.min(offset + 1, editor.value.length));
    }
    errorBox.replaceChildren(...parts);
    errorBox.hidden = false;
  }

  function updateLinks(query) {
    const q = encodeURIComponent(query);
    permalink.href = "/query?query=" + q;
    permalink.hidden = false;
    for (const fmt of ["csv", "tsv", "json"]) {
      document.getElementById("dl-" + fmt).href = `${endpoint}?query=${q}&format=${fmt}`;
    }
    downloads.hidden = false;
  }

  async function send(query) {
    const headers = { Accept: RESULT_TYPES };
    let response = await fetch(`${endpoint}?query=${encodeURIComponent(query)}`, { headers });
    // Too long for a URL: the protocol's POST form carries any length.
    if (response.status === 414 || response.status === 431) {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8" },
        body: new URLSearchParams({ query }),
      });
    }
    return response;
  }

  let running = false;
  async function run() {
    if (running) return;
    const query = editor.value;
    if (!query.trim()) return;
    running = true;
    runButton.disabled = true;
    errorBox.hidden = true;
    statusBox.textContent = "実行中… Running…";
    const started = performance.now();
    try {
      const response = await send(query);
      const text = await response.text();
      const elapsed = Math.round(performance.now() - started);
      updateLinks(query);
      history.replaceState(null, "", "/query?query=" + encodeURIComponent(query));
      if (!response.ok) {
        results.replaceChildren();
        statusBox.textContent = `${elapsed} ms`;
        showError(response.status, text);
        return;
      }
      const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      let vars;
      let rows;
      if (type === "application/n-triples") {
        vars = ["subject", "predicate", "object"];
        rows = parseNTriples(text);
      } else {
        const data = JSON.parse(text);
        if ("boolean" in data) {
          results.replaceChildren();
          statusBox.textContent = `ASK: ${data.boolean} · ${elapsed} ms`;
          return;
        }
        vars = data.head.vars;
        rows = data.results.bindings;
      }
      renderTable(vars, rows);
      const shown = rows.length > rowsShown ? `(最初の ${rowsShown} 行を表示 first ${rowsShown} shown)` : "";
      statusBox.textContent = `${rows.length} 行 rows${shown} · ${elapsed} ms`;
    } catch (error) {
      statusBox.textContent = "";
      showError("—", String(error));
    } finally {
      running = false;
      runButton.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  editor.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      run();
    }
  });
  // Once the text is edited it is no longer the example, so its description would mislead.
  editor.addEventListener("input", () => {
    const active = document.querySelector("a.example.active");
    if (active && active.dataset.query !== editor.value) {
      active.classList.remove("active");
      document.getElementById("example-description").textContent = "";
    }
  });
  for (const link of document.querySelectorAll("a.example")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      editor.value = link.dataset.query;
      document.getElementById("example-description").textContent = link.dataset.description || "";
      for (const other of document.querySelectorAll("a.example.active")) other.classList.remove("active");
      link.classList.add("active");
      editor.focus();
      editor.setSelectionRange(0, 0);
      editor.scrollTop = 0;
    });
  }

  // The BOM is added here, so the same CSV from /sparql opens in Excel with Japanese intact.
  document.getElementById("bom-label").hidden = false;
  csvLink.addEventListener("click", async (event) => {
    if (!bom.checked) return;
    event.preventDefault();
    const response = await fetch(csvLink.href, { headers: { Accept: "text/csv" } });
    const blob = new Blob(["\ufeff", await response.text()], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const anchor = el("a", { href: url, download: "kusei-query.csv" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
})();
