"""Accessors for the request's settings and release."""

from __future__ import annotations

from flask import current_app, g

from kusei.release import Release
from kusei.settings import Settings


def settings() -> Settings:
    return current_app.config["KUSEI"]


def release() -> Release:
    # One release per request, so a swap in the middle of a request cannot mix two releases.
    if "kusei_release" not in g:
        g.kusei_release = current_app.extensions["kusei_release"].latest()
    return g.kusei_release


def release_problem() -> str | None:
    """Why the newest published release is not the one served, if it is not (see CurrentRelease)."""
    return current_app.extensions["kusei_release"].problem  # type: ignore[no-any-return]
