"""Kusei: Yokohama ward management policies (区運営方針) as Linked Open Data."""

from importlib import metadata

try:
    __version__ = metadata.version("kusei")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
