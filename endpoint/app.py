"""Application factory: the SPARQL endpoint, Linked-Data pages and dumps of one data directory."""

from __future__ import annotations

from flask import Flask

from endpoint.release import CurrentRelease
from kusei.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["KUSEI"] = settings
    app.extensions["kusei_release"] = CurrentRelease(settings.data_dir)

    from endpoint import dumps, pages, sparql, web

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(pages.bp)
    web.init_app(app)  # CORS, gzip, release ETags, security headers, error bodies
    return app
