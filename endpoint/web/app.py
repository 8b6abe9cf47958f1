"""Application factory: the SPARQL endpoint, Linked-Data pages and dumps of one data directory."""

from __future__ import annotations

from flask import Flask

from kusei.endpoint.query.cache import ResultCache
from kusei.release import CurrentRelease
from kusei.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.config["KUSEI"] = settings
    app.extensions["kusei_release"] = CurrentRelease(settings.data_dir)
    app.extensions["kusei_result_cache"] = ResultCache(settings.result_cache_bytes)

    from kusei.endpoint.web import http as web
    from kusei.endpoint.web import throttle
    from kusei.endpoint.web.views import dumps, pages, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(pages.bp)
    web.init_app(app)  # CORS, gzip, release ETags, security headers, error bodies
    throttle.init_app(app)  # KUSEI_RATE_LIMIT per client on /sparql, if set
    return app
