"""Placeholder until written."""

from flask import Blueprint

bp = Blueprint("dumps", __name__)
