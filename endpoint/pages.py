"""Placeholder until written."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
