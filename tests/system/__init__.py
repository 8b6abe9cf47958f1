"""System tests. A package, so that its conftest.py (the browser fixtures) is ``system.conftest`` and
``from conftest import ...`` still means the cross-layer tests/conftest.py."""
