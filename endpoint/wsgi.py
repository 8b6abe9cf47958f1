"""WSGI entry point: ``kusei serve`` (granian) or any WSGI server serves the data directory of KUSEI_DATA_DIR."""

from kusei.endpoint.web.app import create_app

app = create_app(start_fork_server=True)
