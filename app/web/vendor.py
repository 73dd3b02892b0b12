"""Browser libraries installed from the npm registry by `make install` (node_modules), served
by the app itself: nothing is loaded from the internet at run time."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
ASSETS = {"jsoneditor.js": NODE_MODULES / "@json-editor" / "json-editor" / "dist"}

blueprint = Blueprint("vendor", __name__, url_prefix="/vendor")


@blueprint.get("/<name>")
def asset(name: str):
    folder = ASSETS.get(name)
    if folder is None or not (folder / name).is_file():
        abort(404)
    return send_from_directory(folder, name, max_age=86400)
