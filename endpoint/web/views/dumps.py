"""The release's files: a listing with sizes and checksums, and each file with Range and 304 support."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from markupsafe import Markup
from werkzeug.http import parse_range_header

from kusei import formats
from kusei.endpoint.query.errors import NotAcceptable
from kusei.endpoint.web import current, negotiation
from kusei.endpoint.web import http as web
from kusei.namespaces import terms
from kusei.release import Release

bp = Blueprint("dumps", __name__)

# The listing is a page, or its JSON.
LISTING_FORMATS = (negotiation.HTML, negotiation.JSON)


@dataclass(frozen=True)
class DumpEntry:
    name: str
    path: Path
    bytes: int
    sha256: str
    media_type: str
    modified: datetime

    def listing(self) -> dict:
        return {"name": self.name, "url": f"/dumps/{self.name}", "bytes": self.bytes,
                "media_type": self.media_type, "sha256": self.sha256,
                "modified": self.modified.isoformat().replace("+00:00", "Z")}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scan(release: Release) -> dict[str, DumpEntry]:
    """Every regular file of the dumps directory by name, then the source documents as ``sources/<name>``."""
    described = {f.name: f for f in release.manifest.files}
    found: dict[str, DumpEntry] = {}
    for directory, prefix in ((release.dumps_dir, ""), (release.sources_dir, "sources/")):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            # Only plain files directly in the directory: no sub-directories, no symlinks out of it.
            if not path.is_file() or path.is_symlink() or path.name.startswith("."):
                continue
            stat = path.stat()
            info = described.get(path.name) if not prefix else None
            # Files the build does not describe (SHA256SUMS, the source texts) by the registry.
            media_type = (info.media_type if info else None) or formats.media_type_of_file(path.name)
            found[prefix + path.name] = DumpEntry(
                name=prefix + path.name, path=path, bytes=stat.st_size,
                sha256=info.sha256 if info else _sha256(path), media_type=media_type,
                modified=datetime.fromtimestamp(int(stat.st_mtime), UTC))
    return found


def entries(release: Release) -> dict[str, DumpEntry]:
    # A release never changes once published, so its listing is computed once per process.
    return release.memo("dump-entries", lambda: _scan(release))


@bp.get("/dumps/")
def listing() -> Response:
    release = current.release()
    wanted = negotiation.page(None, request.headers.get("Accept"), request.args.get("format"),
                              offered=LISTING_FORMATS, strict=True)
    if wanted is None:
        raise NotAcceptable("format= must be json or html.", offered=", ".join(formats.media_types(LISTING_FORMATS)))
    as_json = wanted is negotiation.JSON
    etag = web.release_etag(request.full_path, wanted.media_type)
    cached = web.not_modified(etag, vary="Accept")
    if cached is not None:
        return cached
    files = list(entries(release).values())
    if as_json:
        body = json.dumps({"release": release.id, "modified": release.manifest.modified,
                           "files": [entry.listing() for entry in files]}, ensure_ascii=False, indent=1)
        response = Response(body + "\n", content_type=negotiation.JSON.media_type)
    else:
        response = Response(_html(release, files), content_type=negotiation.HTML.content_type)
    response.set_etag(etag)
    response.vary.add("Accept")
    return response


# What each file holds, and which to take: shown beside it in the listing, in Japanese and English.
HOLDS: dict[str, tuple[str, str]] = {
    "kusei.trig": (
        "名前付きグラフのすべて(文書ごと、編集上の注記、解釈、参照表、語彙)。グラフ名を保ちます。"
        "どの文書が何を述べたかを残すならこれか kusei.nq。rdflib では "
        "Dataset().parse(file, format=\"trig\")。",
        "Every named graph (one per document, editorial, interpretation, reference, ontology), "
        "graph names kept. Take this or kusei.nq to keep provenance by graph; in rdflib: "
        "Dataset().parse(file, format=\"trig\")."),
    "kusei.nq": (
        "kusei.trig と同じ名前付きグラフを、1 行に 1 クワッドで(二つのグラフが述べるトリプルは 2 クワッド)。",
        "The same named graphs as kusei.trig, one quad a line (a triple two graphs state is two quads)."),
    "kusei.ttl": (
        "すべての名前付きグラフを一つに統合したグラフ(各トリプル 1 回):データセット記述を除いた SPARQL "
        "の既定グラフです。グラフ名はなくなりますが、印刷ノードが文書と行を結び付けたままです。rdflib では "
        "Graph().parse(file)。",
        "One graph: the merge of all named graphs, each triple once: the SPARQL default graph "
        "without the dataset description. Graph names are lost (the printing nodes still pair "
        "each document with its lines). In rdflib: Graph().parse(file)."),
    "kusei.nt": (
        "kusei.ttl と同じ統合グラフを、1 行に 1 トリプルで。",
        "The same merged graph as kusei.ttl, one triple a line."),
    "kusei.jsonld": (
        "名前付きグラフを context.jsonld で圧縮した JSON-LD。すべて名前付きグラフの中にあるので、"
        "データセットとして読んでください(rdflib: Dataset().parse(file, format=\"json-ld\"))。"
        "Graph().parse では既定グラフが空なので 0 トリプルになります。",
        "The named graphs as JSON-LD, compacted with context.jsonld. Everything is in named "
        "graphs: read it as a dataset (rdflib: Dataset().parse(file, format=\"json-ld\")); "
        "Graph().parse gives 0 triples, its default graph being empty."),
    "context.jsonld": (
        "JSON-LD のコンテキスト:接頭辞と、Kusei の語(firstLine、printing など)と一般的な語の短い名前"
        "(ラベルと題名は言語マップ)。",
        "The JSON-LD context: the prefixes and short terms for Kusei's properties "
        "(firstLine, printing …) and common standard ones (label and title as language maps)."),
    "shapes.ttl": (
        "ビルドのたびに満たすべき SHACL シェイプ。",
        "The SHACL shapes every build must pass."),
    "validation-report.ttl": (
        "ビルドの SHACL 検証結果:文書ごとのグラフと、統合した既定グラフ。",
        "The build's SHACL result: each document graph, and the merged default graph."),
    "void.ttl": (
        "データセットの記述(VoID、DCAT-AP 3):名前付きグラフ /graph/dataset。dcat:byteSize は DCAT-AP "
        "の求める xsd:nonNegativeInteger です(エンドポイントは派生整数型を xsd:integer として返します)。",
        "The dataset description (VoID, DCAT-AP 3): the named graph /graph/dataset. Its "
        "dcat:byteSize values are xsd:nonNegativeInteger as DCAT-AP requires; the endpoint, whose "
        "store keeps derived integer types as xsd:integer, serves them as xsd:integer."),
    "SHA256SUMS": (
        "上のファイルのチェックサム:sha256sum -c SHA256SUMS で確かめられます。",
        "Checksums of the files above: sha256sum -c SHA256SUMS."),
}


def _holds(name: str) -> tuple[str, str]:
    """What the file ``name`` holds, in Japanese and in English ("" for a file not described)."""
    if name.startswith("sources/"):
        return ("元の文書から取り出した本文。行番号はこのファイルの行です。",
                "A source document's extracted text, as the line numbers count it.")
    if name.endswith(".gz"):
        plain = name.removesuffix(".gz")
        return (f"{plain} を gzip で圧縮したもの。", f"{plain}, gzipped.")
    return HOLDS.get(name, ("", ""))


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _count_triples(release: Release) -> dict[str, int] | None:
    """Triples of the merged dumps, quads of the named-graph dumps, triples of the description:
    counted from the files themselves (one line each in N-Triples and N-Quads)."""
    nt, nq = release.dumps_dir / "kusei.nt", release.dumps_dir / "kusei.nq"
    dataset = release.manifest.graphs.get(terms(release.base).graph("dataset").value)
    if not nt.is_file() or not nq.is_file() or dataset is None:
        return None
    return {"merged": _lines(nt), "quads": _lines(nq), "dataset": dataset}


def _counts(release: Release) -> str:
    counts = release.memo("dump-counts", lambda: _count_triples(release))
    if not counts:
        return ""
    total = counts["merged"] + counts["dataset"]
    return (f"<p>件数:kusei.ttl と kusei.nt は {counts['merged']:,} トリプル(異なるトリプルを各 1 回。VoID の "
            f"void:triples)、kusei.trig と kusei.nq は {counts['quads']:,} クワッドです。いくつもの文書が載せる"
            "もの(マスコット、課など)はそれぞれの文書のグラフで述べられるためです。ホームで数えるエンドポイントの"
            f"既定グラフには、データセット記述(void.ttl)の {counts['dataset']:,} トリプルも含まれ、合わせて "
            f"{total:,} です。</p>"
            f"<p lang=\"en\">Counts: kusei.ttl and kusei.nt hold {counts['merged']:,} triples "
            "(each distinct triple once; VoID's void:triples); kusei.trig and kusei.nq hold "
            f"{counts['quads']:,} quads, because an entity several documents print (a mascot, a section) "
            "is stated in each of their graphs. The endpoint's default graph, counted on the home page, "
            f"also holds the {counts['dataset']:,} triples of the dataset description (void.ttl): "
            f"{total:,} in all.</p>")


def _html(release: Release, files: list[DumpEntry]) -> str:
    # The site layout, so the listing has the header, search, viewport and both languages.
    return render_template("dumps.html", release_id=release.id, files=files, holds=_holds,
                           counts=Markup(_counts(release)))


@bp.get("/dumps/<name>")
@bp.get("/dumps/sources/<name>", defaults={"folder": "sources/"})
def dump_file(name: str, folder: str = "") -> Response:
    # The name is only ever looked up in the listing, never joined to a path, so "..", encoded
    # slashes or absolute paths cannot reach a file outside the release's directories.
    entry = entries(current.release()).get(folder + name)
    if entry is None:
        abort(404, description=f"No file {name!r} in this release; see /dumps/ for the list.")
    asked = parse_range_header(request.headers["Range"]) if "Range" in request.headers else None
    if "Range" in request.headers and (asked is None or asked.units != "bytes" or len(asked.ranges) != 1):
        # A Range the server cannot read (bytes=abc, bytes=5-1, items=0-5) or one of several
        # ranges (Werkzeug sends no multipart/byteranges) is ignored and the whole file sent, as
        # RFC 9110 (14.2) lets a server do; Werkzeug would answer 416 to a satisfiable request.
        request.environ.pop("HTTP_RANGE", None)
    etag = web.file_etag(entry.sha256)
    cached = web.not_modified(etag, last_modified=entry.modified)
    if cached is not None:
        cached.headers["Cache-Control"] = web.CACHE_CONTROL
        return cached
    is_gzip = entry.name.endswith(".gz")
    try:
        # conditional=True for Range (206, 416) and Accept-Ranges only: the client holds no
        # version of this file (fresh() said so above), so werkzeug finds nothing to revalidate.
        response = send_file(
            entry.path, mimetype=entry.media_type, as_attachment=is_gzip, download_name=entry.name,
            conditional=True, etag=etag, last_modified=entry.modified, max_age=None)
    except FileNotFoundError:
        # Gone from a release that was whole when it was opened (the server checks every listed
        # file then): not the client's doing, but nothing to send either.
        current_app.logger.error("dump file missing from release %s: %s", current.release().id, entry.path)
        abort(404, description=f"No file {name!r} in this release; see /dumps/ for the list.")
    response.headers["Cache-Control"] = web.CACHE_CONTROL
    return response
