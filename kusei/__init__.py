"""Kusei: Yokohama ward management policies (区運営方針) as Linked Open Data."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on first use only: importlib.metadata costs tens of milliseconds at every start of
    # every process (the CLI, query processes, the fork server), and only --version and the
    # server header ask for the version.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("kusei")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version
