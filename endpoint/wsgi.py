"""WSGI entry point: ``gunicorn kusei.endpoint.wsgi:app`` serves the data directory of KUSEI_DATA_DIR."""

from kusei.endpoint.web.app import create_app

app = create_app()
