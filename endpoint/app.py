"""Application factory: the SPARQL endpoint, Linked-Data pages and dumps of one data directory."""

from __future__ import annotations

from flask import Flask

from endpoint.release import CurrentRelease
from endpoint.result_cache import ResultCache
from kusei.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["KUSEI"] = settings
    app.extensions["kusei_release"] = CurrentRelease(settings.data_dir)
    app.extensions["kusei_result_cache"] = ResultCache(settings.result_cache_bytes)

    from endpoint import dumps, pages, sparql, throttle, web

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(pages.bp)
    web.init_app(app)  # CORS, gzip, release ETags, security headers, error bodies
    throttle.init_app(app)  # KUSEI_RATE_LIMIT per client on /sparql, if set
    return app
