"""Serve any WSGI app exactly as `kusei serve` serves Kusei's: ``python -m bench.serve_app MODULE:APP``.

The granian options are `kusei serve`'s own (``kusei.cli.server_options``, from the ``KUSEI_*``
environment), with only the target replaced, so a fixed-answer app (``bench.floor_app``) measures
the HTTP stack Kusei runs on, not another configuration of it.
"""

from __future__ import annotations

import os
import sys

from granian import Granian

from kusei.cli import server_options
from kusei.endpoint.query.executor.memory import SERVER_PID
from kusei.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    options = {**server_options(Settings.load()), "target": args[0], "process_name": f"granian bench {args[0]}"}
    os.environ[SERVER_PID] = str(os.getpid())
    Granian(**options).serve()  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
