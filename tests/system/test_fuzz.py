"""Property-based fuzzing of the live server (`kusei serve`): more than 10,000 generated requests.

The property is the same everywhere: whatever arrives, the server answers (no dropped
connection) with a status below 500 and without a stack trace. Generated requests cover /sparql
(GET, form POST, direct POST) with query text built from SPARQL fragments, raw unicode and control
characters, generated Accept headers and format= values; Linked-Data paths under /id/, /def/ and
/graph/ with suffixes; dump names; and the query page.

The examples are derandomised, so every run sends the same requests. No generated query may
contain the word SERVICE in any spelling: pyoxigraph would make an HTTP request to whatever it
names, and this suite talks to 127.0.0.1 only.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reporting import report

pytestmark = [pytest.mark.system, pytest.mark.slow]

# Example counts per test; together they are the request budget.
BUDGET = {
    "sparql_get": 2_600,
    "sparql_form": 1_600,
    "sparql_direct": 1_600,
    "resources": 2_200,
    "dumps": 1_100,
    "query_page": 1_000,
}
assert sum(BUDGET.values()) >= 10_000

SENT: Counter[str] = Counter()
ELAPSED: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


def fuzz_settings(name: str) -> settings:
    return settings(max_examples=BUDGET[name], deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# -- query text ------------------------------------------------------------------------------------

BASE = "https://w3id.org/kusei"
KEYWORDS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH",
    "BIND", "VALUES", "PREFIX", "BASE", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "HAVING", "DISTINCT",
    "REDUCED", "AS", "FROM", "FROM NAMED", "NOT EXISTS", "EXISTS", "IN", "NOT IN", "COUNT", "SUM", "MIN",
    "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "SEPARATOR", "STR", "LANG", "LANGMATCHES", "DATATYPE", "REGEX",
    "REPLACE", "CONCAT", "STRLEN", "SUBSTR", "UCASE", "LCASE", "CONTAINS", "STRSTARTS", "IRI", "URI", "BNODE",
    "COALESCE", "IF", "ISIRI", "ISLITERAL", "BOUND", "SAMETERM", "NOW", "RAND", "UUID", "MD5", "SHA256",
    "ENCODE_FOR_URI", "YEAR", "TZ", "ABS", "CEIL", "TRIPLE", "SUBJECT", "isTRIPLE", "a", "true", "false",
    "UNDEF", "ASC", "DESC", "INSERT", "DELETE", "DATA", "LOAD", "CLEAR", "DROP", "CREATE", "WITH", "USING",
    "SILENT", "DEFAULT", "NAMED", "ALL", "INTO", "LATERAL",
]
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ".", ";", ",", "*", "?", "$", "=", "!=", "<", ">", "<=", "&&",
               "||", "!", "+", "-", "/", "^", "^^", "|", "@", "#", "<<", ">>", "<<(", ")>>", "{|", "|}", "~",
               ":", "_:", "\\", '"', "'", '"""', "'''"]
VARIABLES = ["?s", "?p", "?o", "?x", "$y", "?g", "?n", "?label", "?名前", "?_", "?1"]
IRIS = [
    f"<{BASE}/id/plan/141089/2024>", f"<{BASE}/def/Plan>", f"<{BASE}/def/>", f"<{BASE}/id/area/141089>",
    f"<{BASE}/graph/dataset>", f"<{BASE}/id/dataset/kusei>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
    "<http://www.w3.org/2000/01/rdf-schema#label>", "<urn:x:a>", "<>", "<#frag>", "<relative/path>",
    "<http://127.0.0.1:1/>", "<http://exa mple/>", "<unterminated", "<http://example.org/\u00e9>",
]
PREFIXED = ["kusei:Plan", "kusei:measure", "rdfs:label", "skos:prefLabel", "dcterms:title", "dct:modified",
            "schema:name", "xsd:integer", "xsd:date", "rdf:type", "prov:Plan", ":x", "x:", "nope:thing",
            "kusei:", "rdfs:label/rdfs:label", "rdf:type*", "^rdf:type", "(rdf:type|rdfs:label)+"]
LITERALS = ['"x"', '"区運営方針"@ja', '"Kanazawa"@en', '"1"^^xsd:integer', "'single'", '"""long\nstring"""',
            "1", "-1.5", "1e10", "0x10", '"\\u0041"', '"\\U0001F600"', '"unterminated', "'\\'", '""@',
            '"x"@en--ltr', '"2024-04-01"^^xsd:date', '"bad"^^xsd:integer', '"\\t\\n"', "99999999999999999999999"]
PROLOGUES = ["", "PREFIX ex: <urn:x:>\n", f"BASE <{BASE}/>\n", "PREFIX : <urn:x:> ", "# comment\n",
             "PREFIX kusei: <urn:other:>\n"]

# Raw text: any code point but surrogates (which cannot be sent as UTF-8), control characters
# included on purpose.
raw_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=120)
ascii_noise = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=60)
token = st.one_of(
    st.sampled_from(KEYWORDS), st.sampled_from(PUNCTUATION), st.sampled_from(VARIABLES), st.sampled_from(IRIS),
    st.sampled_from(PREFIXED), st.sampled_from(LITERALS),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6),
)
separator = st.sampled_from([" ", " ", " ", "\n", "\t", "", "  ", "\r\n", "\x00", "\u3000"])


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(token, max_size=40))
    return "".join(t + draw(separator) for t in tokens)


term = st.one_of(st.sampled_from(VARIABLES), st.sampled_from(IRIS[:8]), st.sampled_from(PREFIXED[:12]),
                 st.sampled_from(LITERALS))
predicate = st.one_of(st.just("?p"), st.sampled_from(PREFIXED), st.sampled_from(IRIS[:8]))


@st.composite
def structured_query(draw: st.DrawFn) -> str:
    """A mostly well-formed query. Every pattern hangs off ?s and all but the first have a fixed
    predicate, and there is always a LIMIT: no cross products, no runaway result."""
    patterns = [f"?s {draw(predicate)} {draw(term)}"]
    patterns += [f"?s {draw(st.sampled_from(PREFIXED[:12]))} {draw(term)}" for _ in range(draw(st.integers(0, 2)))]
    body = " .\n  ".join(patterns)
    extras = [
        lambda: "", lambda: f" FILTER({draw(term)} = {draw(term)})",
        lambda: f" OPTIONAL {{ ?s rdfs:label {draw(term)} }}", lambda: f" BIND({draw(term)} AS ?b)",
        lambda: f' FILTER(LANG({draw(term)}) = "ja")', lambda: f" VALUES ?o {{ {draw(term)} }}",
        lambda: f" GRAPH ?g {{ ?s {draw(predicate)} ?o }}",
        lambda: f" FILTER(REGEX(STR({draw(term)}), {draw(st.sampled_from(LITERALS))}))",
    ]
    extra = extras[draw(st.integers(0, len(extras) - 1))]()
    form = draw(st.sampled_from([
        "SELECT * WHERE", "SELECT DISTINCT ?s WHERE", "SELECT ?s ?o WHERE", "ASK", "ASK WHERE", "CONSTRUCT WHERE",
        "CONSTRUCT { ?s ?p ?o } WHERE", "DESCRIBE ?s WHERE", f"DESCRIBE {draw(st.sampled_from(IRIS[:6]))}",
        "SELECT (COUNT(*) AS ?n) WHERE", "SELECT (STR(?s) AS ?x) (LANG(?o) AS ?l) WHERE",
        "SELECT ?s (SAMPLE(?o) AS ?v) WHERE",
    ]))
    limit = draw(st.integers(0, 20))
    tail = " GROUP BY ?s" if "SAMPLE" in form else ""
    if form.startswith("DESCRIBE <"):
        return draw(st.sampled_from(PROLOGUES)) + form
    return f"{draw(st.sampled_from(PROLOGUES))}{form} {{\n  {body}{extra}\n}}{tail} LIMIT {limit}"


@st.composite
def mutated_query(draw: st.DrawFn) -> str:
    """A structured query with a piece cut out, duplicated or replaced by noise."""
    text = draw(structured_query())
    if not text:
        return text
    i = draw(st.integers(0, len(text) - 1))
    j = draw(st.integers(i, min(len(text), i + 20)))
    how = draw(st.sampled_from(["cut", "dup", "noise", "token"]))
    if how == "cut":
        return text[:i] + text[j:]
    if how == "dup":
        return text[:j] + text[i:j] + text[j:]
    if how == "noise":
        return text[:i] + draw(raw_text) + text[j:]
    return text[:i] + draw(token) + text[i:]


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else ""
    return _ESCAPE.sub(replace, text)


def reaches_network(text: str) -> bool:
    """Whether ``text`` could ask pyoxigraph for a federated SERVICE call, in any spelling.

    Compatibility-folded and case-folded, with \\u escapes decoded; no separator may hide it either
    (oxigraph skips no character inside a keyword, but dropping non-letters costs nothing).
    """
    for candidate in (text, _unescape(text)):
        folded = unicodedata.normalize("NFKC", candidate).casefold()
        if "service" in folded or "service" in re.sub(r"[^a-z]", "", folded):
            return True
    return False


query_text = st.one_of(
    structured_query(), structured_query(), mutated_query(), mutated_query(), token_soup(), raw_text, ascii_noise,
    st.sampled_from(["", " ", "\x00", "SELECT", "{}", "ASK {}", "\ufeffASK {}", "ASK {}\x00"]),
).filter(lambda text: not reaches_network(text))


# -- headers and parameters -----------------------------------------------------------------------

MEDIA_TYPES = [
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
    "application/json", "application/xml", "text/turtle", "application/n-triples", "application/ld+json",
    "application/rdf+xml", "application/trig", "application/n-quads", "text/html", "application/xhtml+xml",
    "text/plain", "*/*", "text/*", "application/*", "image/png", "*/html", "x", "",
]
Q_VALUES = ["", ";q=1", ";q=0", ";q=0.5", ";q=0.001", ";q=abc", ";q=-1", ";q=2", ";q=nan", ";q=", ";level=1",
            ";charset=utf-8", ';charset="x', ";;"]
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


@st.composite
def accept_header(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return None
    if kind == 5:
        value = draw(header_text)
    else:
        parts = draw(st.lists(st.tuples(st.sampled_from(MEDIA_TYPES), st.sampled_from(Q_VALUES)), min_size=1,
                              max_size=6))
        value = draw(st.sampled_from([",", ", ", " ,", ";"])).join(m + q for m, q in parts)
    # requests refuses header values with leading blanks; the server never sees those.
    return value.strip() or None


FORMAT_NAMES = ["json", "xml", "csv", "tsv", "ttl", "turtle", "nt", "ntriples", "jsonld", "json-ld", "rdf",
                "rdfxml", "trig", "nq", "nquads", "html", "text/html", "application/sparql-results+json",
                "text/turtle", "JSON", " json", "srj", "", "\x00", "../../etc/passwd"]
format_value = st.one_of(st.none(), st.sampled_from(FORMAT_NAMES), raw_text.map(lambda t: t[:20]))


def _headers(accept: str | None) -> dict[str, str]:
    return {"Accept": accept} if accept is not None else {}


# -- paths ----------------------------------------------------------------------------------------

SEGMENTS = ["plan", "141089", "141003", "2024", "2014", "measure", "1", "2", "project", "item", "goal", "area",
            "organization", "section", "mascot", "document", "dataset", "kusei", "distribution", "Plan", "measure",
            "fiscal-year", "policy-area", "mtp", "2022-2025", "..", ".", "", "%", "%2f", "%2e%2e", "%00", "~",
            "a b", "<x>", "\"", "'", "?", "#", ";", "区", "\u200b", "\ufeff", "x" * 300]
SUFFIXES = ["", "", "", ".ttl", ".jsonld", ".rdf", ".nt", ".html", ".json", ".", ".ttl.ttl", "/", ".TTL", "%2ettl"]
segment = st.one_of(st.sampled_from(SEGMENTS), st.text(alphabet=st.characters(exclude_categories=("Cs",)),
                                                       max_size=12))


@st.composite
def resource_url(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["/id/", "/id/", "/def/", "/graph/", "/id/plan/141089/2024/", "/"]))
    segments = draw(st.lists(segment, max_size=6))
    # Segments are percent-encoded as a client would; "%" in SEGMENTS then stands for itself.
    path = prefix + "/".join(quote(s, safe="%~") for s in segments) + draw(st.sampled_from(SUFFIXES))
    fmt = draw(format_value)
    return path + ("?format=" + quote(fmt, safe="") if fmt is not None else "")


DUMP_NAMES = ["", "SHA256SUMS", "void.ttl", "kusei.ttl", "kusei.ttl.gz", "kusei.nt", "kusei.nt.gz", "kusei.trig",
              "kusei.nq.gz", "kusei.jsonld", "context.jsonld", "shapes.ttl", "validation-report.ttl", "sources/",
              "sources/README.md", "release.json", "store", "store/CURRENT", "../release.json", "..%2frelease.json",
              "%2e%2e/", "%2e%2e%2fstore%2fCURRENT", ".", "..", "%00", "void.ttl%00", "VOID.TTL", "void.ttl/",
              "?format=json", "?format=html", "?format=xml", "?format=", "?format=%ff"]


@st.composite
def dump_url(draw: st.DrawFn) -> str:
    name = draw(st.one_of(st.sampled_from(DUMP_NAMES), segment.map(lambda s: quote(s, safe="")),
                          st.tuples(st.sampled_from(DUMP_NAMES), segment).map(lambda t: t[0] + quote(t[1], safe=""))))
    prefix = draw(st.sampled_from(["/dumps/", "/dumps/", "/dumps/sources/", "/dumps//"]))
    return prefix + name


range_header = st.one_of(st.none(), st.sampled_from([
    "bytes=0-0", "bytes=0-99", "bytes=-10", "bytes=10-", "bytes=5-1", "bytes=99999999999-", "bytes=0-0,2-3",
    "bytes=abc", "lines=1-2", "bytes=", "bytes=-0",
]), header_text)


# -- sending --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def session(request: pytest.FixtureRequest) -> Iterator[requests.Session]:
    """One keep-alive session for the module; the totals go to the terminal at the end."""
    started = time.monotonic()
    with requests.Session() as http:
        yield http
    elapsed = time.monotonic() - started
    total = sum(SENT.values())
    line = (f"fuzz: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s): "
            + ", ".join(f"{name} {SENT[name]} in {ELAPSED[name]:.1f} s" for name in BUDGET if name in SENT)
            + "; statuses " + ", ".join(f"{status}: {n}" for status, n in sorted(STATUSES.items())))
    report(request.config, line)


def send(http: requests.Session, name: str, method: str, url: str, **kwargs: object) -> requests.Response:
    started = time.monotonic()
    try:
        response = http.request(method, url, timeout=60, allow_redirects=False, **kwargs)
    except requests.ConnectionError as exc:
        raise AssertionError(f"no answer to {method} {url[:300]!r}: {exc}") from exc
    finally:
        SENT[name] += 1
        ELAPSED[name] += time.monotonic() - started
    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (method, url[:300], kwargs, response.status_code, response.text[:500])
    assert "Traceback" not in response.text, (method, url[:300], response.text[:2000])
    return response


# -- the properties -------------------------------------------------------------------------------


@fuzz_settings("sparql_get")
@given(query=query_text, accept=accept_header(), fmt=format_value)
def test_fuzz_sparql_get(server_url: str, session: requests.Session, query: str, accept: str | None,
                         fmt: str | None) -> None:
    params = {"query": query, **({"format": fmt} if fmt is not None else {})}
    send(session, "sparql_get", "GET", f"{server_url}/sparql", params=params, headers=_headers(accept))


@fuzz_settings("sparql_form")
@given(query=query_text, accept=accept_header(), fmt=format_value)
def test_fuzz_sparql_post_form(server_url: str, session: requests.Session, query: str, accept: str | None,
                               fmt: str | None) -> None:
    data = {"query": query, **({"format": fmt} if fmt is not None else {})}
    send(session, "sparql_form", "POST", f"{server_url}/sparql", data=data, headers=_headers(accept))


@fuzz_settings("sparql_direct")
@given(query=query_text, accept=accept_header(), fmt=format_value,
       charset=st.sampled_from(["", "; charset=utf-8", "; charset=UTF-8", "; charset=latin-1"]))
def test_fuzz_sparql_post_direct(server_url: str, session: requests.Session, query: str, accept: str | None,
                                 fmt: str | None, charset: str) -> None:
    headers = {"Content-Type": "application/sparql-query" + charset, **_headers(accept)}
    params = {"format": fmt} if fmt is not None else {}
    send(session, "sparql_direct", "POST", f"{server_url}/sparql", params=params, data=query.encode("utf-8"),
         headers=headers)


@fuzz_settings("resources")
@given(url=st.one_of(resource_url(), resource_url(), st.sampled_from(["/sparql", "/.well-known/void", "/def/", "/"])
                     .flatmap(lambda p: format_value.map(lambda f: p + ("?format=" + quote(f) if f else "")))),
       accept=accept_header(), method=st.sampled_from(["GET", "GET", "GET", "HEAD"]))
def test_fuzz_resources(server_url: str, session: requests.Session, url: str, accept: str | None,
                        method: str) -> None:
    send(session, "resources", method, server_url + url, headers=_headers(accept))


@fuzz_settings("dumps")
@given(url=dump_url(), accept=accept_header(), byte_range=range_header,
       method=st.sampled_from(["GET", "GET", "HEAD"]))
def test_fuzz_dumps(server_url: str, session: requests.Session, url: str, accept: str | None,
                    byte_range: str | None, method: str) -> None:
    headers = _headers(accept)
    if byte_range and byte_range.strip():
        headers["Range"] = byte_range.strip()
    send(session, "dumps", method, server_url + url, headers=headers)


@fuzz_settings("query_page")
@given(query=query_text)
def test_fuzz_query_page(server_url: str, session: requests.Session, query: str) -> None:
    response = send(session, "query_page", "GET", f"{server_url}/query", params={"query": query})
    # Whatever the query, the page is the page (or the URL was too long: 414 past 8,190 bytes).
    assert response.status_code in (200, 414), response.text[:500]


def test_fuzz_sent_the_whole_budget() -> None:
    if set(SENT) != set(BUDGET):
        pytest.skip("only part of the fuzz module ran")
    total = sum(SENT.values())
    print(f"fuzz: {total} requests sent")
    assert total >= 10_000, SENT
