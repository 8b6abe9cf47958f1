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
  const pager = document.getElementById("pager");
  const limitNotice = document.getElementById("limit-notice");
  const chartBox = document.getElementById("chart");
  const viewSelect = document.getElementById("view");

  const endpoint = section.dataset.sparql;
  const base = section.dataset.base.replace(/\/$/, "");
  const pageSize = parseInt(section.dataset.pageSize, 10) || 100;
  const explanations = JSON.parse(section.dataset.explanations || "[]");
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

  // Only http(s) IRIs become links, as on the server (terms.linkable): a `javascript:` or `data:`
  // IRI in a result would otherwise run, or show, whatever its author wrote when clicked.
  function linkable(iri) {
    return /^https?:/i.test(iri);
  }

  // The shown IRI with a break opportunity after each "/", so narrow columns break at slashes.
  function iriLink(iri) {
    const local = localHref(iri);
    const link = local !== iri || linkable(iri)
      ? el("a", { href: local, title: iri })
      : el("span", { class: "iri-text", title: iri });
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

  // The whole answer stays here; the table shows one page of it, sorted as the reader asks.
  const view = { vars: [], rows: [], page: 1, sortVar: null, descending: false };

  function sortValue(term) {
    if (!term) return "";
    return term.value;
  }

  function sortedRows() {
    if (!view.sortVar) return view.rows;
    const collator = new Intl.Collator("ja", { numeric: true });
    const key = view.sortVar;
    const sign = view.descending ? -1 : 1;
    return [...view.rows].sort((a, b) => sign * collator.compare(sortValue(a[key]), sortValue(b[key])));
  }

  function pageCount() {
    return Math.max(1, Math.ceil(view.rows.length / pageSize));
  }

  function renderPager() {
    const pages = pageCount();
    if (pages <= 1) {
      pager.replaceChildren();
      pager.hidden = true;
      return;
    }
    const prev = el("button", { type: "button", class: "page-prev" }, "← 前へ ", el("span", { lang: "en" }, "Previous"));
    const next = el("button", { type: "button", class: "page-next" }, "次へ ", el("span", { lang: "en" }, "Next"), " →");
    prev.disabled = view.page <= 1;
    next.disabled = view.page >= pages;
    prev.addEventListener("click", () => { view.page -= 1; renderTable(); });
    next.addEventListener("click", () => { view.page += 1; renderTable(); });
    const where = el("span", { class: "page-where" }, `${view.page} / ${pages} ページ `, el("span", { lang: "en" }, "page"));
    pager.replaceChildren(prev, where, next);
    pager.hidden = false;
  }

  function renderTable() {
    const first = (view.page - 1) * pageSize;
    const head = el("tr", null, ...view.vars.map((v) => {
      const sorted = view.sortVar === v ? (view.descending ? "descending" : "ascending") : null;
      const button = el("button", { type: "button", class: "sort", title: "並べ替え sort" }, "?" + v,
        sorted ? (view.descending ? " ↓" : " ↑") : "");
      button.addEventListener("click", () => {
        view.descending = view.sortVar === v ? !view.descending : false;
        view.sortVar = v;
        view.page = 1;
        renderTable();
      });
      return el("th", { scope: "col", "aria-sort": sorted }, button);
    }));
    const body = el("tbody");
    for (const row of sortedRows().slice(first, first + pageSize)) {
      body.append(el("tr", null, ...view.vars.map((v) => cell(row[v]))));
    }
    results.replaceChildren(el("table", { class: "result-table" }, el("thead", null, head), body));
    renderPager();
    const total = view.rows.length;
    const shown = total > pageSize ? ` · ${first + 1}–${Math.min(first + pageSize, total)} 行目を表示 rows shown` : "";
    statusBox.textContent = `${total.toLocaleString("en")} 行 rows${shown} · ${view.elapsed} ms`;
  }

  // The LIMIT that closes the query, as the server finds it (pages/query.py query_limit): comments,
  // strings and IRIs blanked first, so a "LIMIT 5" inside them is not taken for it.
  const NOT_CODE = /#[^\n]*|"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>/g;
  const OUTER_LIMIT = /\bLIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?\s*(?:VALUES\b[\s\S]*)?$/i;
  function queryLimit(query) {
    const match = OUTER_LIMIT.exec(query.replace(NOT_CODE, " ").trimEnd());
    return match ? parseInt(match[1], 10) : null;
  }

  function showLimitNotice(query, total) {
    const limit = queryLimit(query);
    if (limit === null || total < limit) {
      limitNotice.replaceChildren();
      limitNotice.hidden = true;
      return;
    }
    limitNotice.replaceChildren(
      `クエリの LIMIT ${limit} で結果が打ち切られています。ほかにも該当する行があるかもしれません。`,
      el("span", { lang: "en" }, `The query's LIMIT ${limit} cut the result: more rows may match.`));
    limitNotice.hidden = false;
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
    const parts = [heading];
    const explanation = explanations.find((entry) => new RegExp(entry.pattern, "i").test(message));
    if (explanation) {
      parts.push(el("p", { class: "explain" }, explanation.ja), el("p", { class: "explain", lang: "en" }, explanation.en));
    }
    parts.push(el("pre", { class: "message" }, message));
    const lines = editor.value.split("\n");
    if (line && line <= lines.length) {
      const context = el("pre", { class: "context" });
      for (let n = Math.max(1, line - 1); n <= line; n++) {
        const text = lines[n - 1];
        context.append(`${String(n).padStart(3)} | `);
        if (n === line && column) {
          const at = Math.min(column - 1, text.length);
          context.append(text.slice(0, at), el("mark", { class: "at" }, text.slice(at, at + 1) || " "), text.slice(at + 1));
        } else {
          context.append(text);
        }
        context.append("\n");
      }
      if (column) context.append(" ".repeat(6 + column - 1) + "^");
      parts.push(context);
      // Put the caret where the parser stopped, so the fix is one keystroke away.
      let offset = 0;
      for (let n = 1; n < line; n++) offset += lines[n - 1].length + 1;
      offset += Math.max(0, (column || 1) - 1);
      editor.setSelectionRange(offset, Math.min(offset + 1, editor.value.length));
      // The enhanced editor (static/editor.js), when loaded, marks the position in its text.
      editor.dispatchEvent(new CustomEvent("kusei:error", { detail: { line, column, message } }));
    }
    errorBox.replaceChildren(...parts);
    errorBox.hidden = false;
  }

  // The chart is drawn by the server (the same SVG the page has without this script): asked for when
  // the control or a #view: line of the query wants one.
  const VIEW_LINE = /^[ \t]*#[ \t]*view[ \t]*:[ \t]*(table|bar|stacked|line)[ \t]*$/im;

  function viewParam() {
    return viewSelect && viewSelect.value ? "&view=" + encodeURIComponent(viewSelect.value) : "";
  }

  async function updateChart(query, kind) {
    if (!chartBox) return;
    const asked = (viewSelect && viewSelect.value) || (VIEW_LINE.exec(query) || [])[1] || "table";
    if (kind !== "table" || asked === "table") {
      chartBox.replaceChildren();
      chartBox.hidden = true;
      return;
    }
    const href = "/query/chart.svg?query=" + encodeURIComponent(query) + viewParam();
    const response = await fetch(href);
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try { message = JSON.parse(text).message || text; } catch (e) { /* plain text */ }
      chartBox.replaceChildren(el("p", { class: "note" }, message));
      chartBox.hidden = false;
      return;
    }
    const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    const figure = el("figure", { class: "chart" }, document.importNode(svg, true),
      el("figcaption", null, el("a", { id: "chart-download", href, download: "" },
        "SVG をダウンロード ", el("span", { lang: "en" }, "Download SVG"))));
    chartBox.replaceChildren(figure);
    chartBox.hidden = false;
  }

  // The result names its release and offers a link pinned to it; the server makes the link (one
  // encoding for both paths), asked by POST so a long query never travels in a URL.
  async function updateShare(query, kind) {
    const line = document.getElementById("release-line");
    if (!line) return;
    line.hidden = kind === null;
    const pin = document.getElementById("pin-notice");
    if (pin) pin.hidden = true; // the script's answer is the current release's, not the pinned one
    const release = line.dataset.release;
    const on = document.getElementById("answered-on");
    on.replaceChildren("リリース ", el("code", null, release), " のデータで計算 ",
      el("span", { lang: "en" }, "Computed on release ", el("code", null, release)));
    const share = document.getElementById("share-link");
    const tooLong = document.getElementById("share-too-long");
    const post = document.querySelector("#share-post input[name=query]");
    if (post) post.value = query;
    if (kind === null) return;
    const response = await fetch("/query/share", { method: "POST", body: new URLSearchParams({ query }) });
    const data = response.ok ? await response.json() : { link: null };
    share.hidden = !data.link;
    tooLong.hidden = Boolean(data.link);
    if (data.link) share.href = data.link + viewParam().replace(/^&/, "?");
  }

  // Downloads offered are those of the result's kind: tables for SELECT/ASK, graphs otherwise.
  function updateLinks(query, kind) {
    const q = encodeURIComponent(query);
    permalink.href = "/query?query=" + q + viewParam();
    permalink.hidden = false;
    for (const link of downloads.querySelectorAll("a[data-format]")) {
      const fmt = link.dataset.format;
      link.href = fmt === "csv-bom" ? `/query/download?query=${q}&format=csv-bom` : `${endpoint}?query=${q}&format=${fmt}`;
    }
    updateShare(query, kind);
    document.getElementById("dl-table").hidden = kind !== "table";
    document.getElementById("dl-graph").hidden = kind !== "graph";
    downloads.hidden = kind === null;
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
    limitNotice.hidden = true;
    statusBox.textContent = "実行中… Running…";
    const started = performance.now();
    try {
      const response = await send(query);
      const text = await response.text();
      const elapsed = Math.round(performance.now() - started);
      history.replaceState(null, "", "/query?query=" + encodeURIComponent(query) + viewParam());
      if (!response.ok) {
        updateLinks(query, null);
        updateChart(query, null);
        results.replaceChildren();
        pager.hidden = true;
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
        updateLinks(query, "graph");
        updateChart(query, "graph");
      } else {
        const data = JSON.parse(text);
        updateLinks(query, "table");
        updateChart(query, "boolean" in data ? "boolean" : "table");
        if ("boolean" in data) {
          results.replaceChildren();
          pager.hidden = true;
          statusBox.textContent = `ASK: ${data.boolean} · ${elapsed} ms`;
          return;
        }
        vars = data.head.vars;
        rows = data.results.bindings;
      }
      Object.assign(view, { vars, rows, page: 1, sortVar: null, descending: false, elapsed });
      renderTable();
      showLimitNotice(query, rows.length);
    } catch (error) {
      statusBox.textContent = "";
      showError("—", String(error));
    } finally {
      running = false;
      runButton.disabled = false;
    }
  }

  if (viewSelect) viewSelect.addEventListener("change", () => { if (editor.value.trim()) run(); });
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
      document.getElementById("example-description").replaceChildren();
    }
  });
  for (const link of document.querySelectorAll("a.example")) {
    link.addEventListener("click", (event) => {
      // A canned query (#param lines) opens as a page: the server draws its form.
      if (/^[ \t]*#[ \t]*param[ \t]/m.test(link.dataset.query)) return;
      event.preventDefault();
      editor.value = link.dataset.query;
      editor.dispatchEvent(new CustomEvent("kusei:replace"));
      document.getElementById("example-description").replaceChildren(
        el("p", null, link.dataset.description || ""), el("p", { lang: "en" }, link.dataset.descriptionEn || ""));
      for (const other of document.querySelectorAll("a.example.active")) other.classList.remove("active");
      link.classList.add("active");
      editor.focus();
      editor.setSelectionRange(0, 0);
      editor.scrollTop = 0;
    });
  }

})();
