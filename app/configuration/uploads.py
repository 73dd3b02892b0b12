"""Packs uploaded through the console: a zip is unpacked safely into the storage folder, planned
(diff, table changes, cases) and installed on confirmation."""

from __future__ import annotations

import shutil
import uuid
import zipfile
from pathlib import Path

from flask import current_app

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_FILES = 2000


class UploadError(ValueError):
    pass


def uploads_root() -> Path:
    root = Path(current_app.config["STORAGE_PATH"]) / "pack-uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def unpack(upload) -> str:
    """Unpack a zipped pack; returns the upload id. Refuses paths that leave the folder."""
    token = uuid.uuid4().hex
    target = uploads_root() / token
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError("the zip is larger than 20 MB")
    archive_path = uploads_root() / f"{token}.zip"
    archive_path.write_bytes(data)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            names = archive.namelist()
            if len(names) > MAX_FILES:
                raise UploadError("the zip holds too many files")
            for name in names:
                destination = (target / name).resolve()
                if not destination.is_relative_to(target.resolve()):
                    raise UploadError(f"{name}: a path outside the pack")
            archive.extractall(target)
    except zipfile.BadZipFile as exc:
        raise UploadError("not a zip file") from exc
    finally:
        archive_path.unlink(missing_ok=True)
    return token


def pack_folder(token: str) -> Path:
    """The folder holding pack.yaml inside an upload (the zip may wrap it in one folder)."""
    if not token.isalnum():
        raise UploadError("bad upload id")
    root = uploads_root() / token
    if (root / "pack.yaml").is_file():
        return root
    found = sorted(root.glob("*/pack.yaml"))
    if len(found) != 1:
        raise UploadError("the zip must hold one pack.yaml (at the top or in one folder)")
    return found[0].parent


def discard(token: str) -> None:
    if token.isalnum():
        shutil.rmtree(uploads_root() / token, ignore_errors=True)
