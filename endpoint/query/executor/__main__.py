"""``python -m kusei.endpoint.query.executor``: a query process (see child.py)."""

from kusei.endpoint.query.executor.child import main

main()
