"""WSGI entry point: ``gunicorn endpoint.wsgi:app`` serves the data directory of KUSEI_DATA_DIR."""

from endpoint.app import create_app

app = create_app()
