"""Packs uploaded through the console: a zip is unpacked safely into the storage folder, planned
(diff, table changes, cases) and installed on confirmation.

A zip says how large its files are, but it may lie: the declared sizes are checked first (number
of files, size of each, total, compression ratio), then every byte written is counted again while
extracting, and the first limit crossed stops the extraction and removes what was written. An
upload is removed once installed or cancelled; one left behind is swept after
PACK_UPLOAD_TTL_HOURS, on every new upload and by `flask pack sweep-uploads`."""

from __future__ import annotations

import re
import shutil
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

CHUNK = 64 * 1024
# Below this size a member may compress as well as it likes (a YAML file of spaces is harmless);
# above it, a ratio beyond PACK_MAX_RATIO is a bomb.
RATIO_FLOOR_BYTES = 1024 * 1024


class UploadError(ValueError):
    pass


@dataclass(frozen=True)
class UploadLimits:
    upload_bytes: int
    unpacked_bytes: int
    file_bytes: int
    files: int
    ratio: int
    ttl_hours: int

    @classmethod
    def from_config(cls) -> UploadLimits:
        config = current_app.config
        return cls(
            int(config.get("PACK_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)),
            int(config.get("PACK_UNPACKED_MAX_BYTES", 50 * 1024 * 1024)),
            int(config.get("PACK_FILE_MAX_BYTES", 2 * 1024 * 1024)),
            int(config.get("PACK_MAX_FILES", 2000)),
            int(config.get("PACK_MAX_RATIO", 100)),
            int(config.get("PACK_UPLOAD_TTL_HOURS", 24)),
        )


def uploads_root() -> Path:
    root = Path(current_app.config["STORAGE_PATH"]) / "pack-uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def unpack(upload) -> str:
    """Unpack a zipped pack within the limits; returns the upload id. Refuses paths that leave
    the folder; on any refusal nothing of the upload is left on disk."""
    limits = UploadLimits.from_config()
    sweep_stale(limits)
    token = uuid.uuid4().hex
    target = uploads_root() / token
    data = upload.read(limits.upload_bytes + 1)
    if len(data) > limits.upload_bytes:
        raise UploadError(f"the zip is larger than {_size(limits.upload_bytes)}")
    archive_path = uploads_root() / f"{token}.zip"
    archive_path.write_bytes(data)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            _check_declared(members, target, limits)
            _extract(archive, members, target, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UploadError(f"not a valid zip file ({exc})") from exc
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encryption
        shutil.rmtree(target, ignore_errors=True)
        raise UploadError(f"the zip cannot be read: {exc}") from exc
    except UploadError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        archive_path.unlink(missing_ok=True)
    return token


def _check_declared(members: list[zipfile.ZipInfo], target: Path, limits: UploadLimits) -> None:
    """What the zip declares, refused before a byte is written."""
    if len(members) > limits.files:
        raise UploadError(f"the zip holds {len(members):,} files; at most {limits.files:,}")
    total = 0
    for member in members:
        destination = (target / member.filename).resolve()
        if not destination.is_relative_to(target.resolve()):
            raise UploadError(f"{member.filename}: a path outside the pack")
        _check_member(member.filename, member.file_size, member.compress_size, limits)
        total += member.file_size
        if total > limits.unpacked_bytes:
            raise UploadError(f"the pack unpacks to more than {_size(limits.unpacked_bytes)}")


def _check_member(name: str, size: int, compressed: int, limits: UploadLimits) -> None:
    if size > limits.file_bytes:
        raise UploadError(f"{name}: larger than {_size(limits.file_bytes)} unpacked")
    if size > RATIO_FLOOR_BYTES and size > limits.ratio * max(compressed, 1):
        raise UploadError(
            f"{name}: compressed more than {limits.ratio}:1 — refused as a possible zip bomb"
        )


def _extract(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path, limits: UploadLimits
) -> None:
    """Extract member by member, counting the bytes actually written (declared sizes may lie)."""
    target.mkdir(parents=True)
    written_total = 0
    for member in members:
        destination = (target / member.filename).resolve()
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with archive.open(member) as source, destination.open("wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                written_total += len(chunk)
                _check_member(member.filename, written, member.compress_size, limits)
                if written_total > limits.unpacked_bytes:
                    raise UploadError(
                        f"the pack unpacks to more than {_size(limits.unpacked_bytes)}"
                    )
                out.write(chunk)


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def _is_token(token: str) -> bool:
    # Exactly what `unpack` makes (uuid4 hex): `isalnum` let a 3,000-letter id reach the file
    # system, which answered OSError "File name too long" (500).
    return re.fullmatch(r"[0-9a-f]{32}", token) is not None


def pack_folder(token: str) -> Path:
    """The folder holding pack.yaml inside an upload (the zip may wrap it in one folder)."""
    if not _is_token(token):
        raise UploadError("bad upload id")
    root = uploads_root() / token
    if not root.is_dir():
        raise UploadError("this upload is gone (installed, cancelled or expired): upload it again")
    if (root / "pack.yaml").is_file():
        return root
    found = sorted(root.glob("*/pack.yaml"))
    if len(found) != 1:
        raise UploadError("the zip must hold one pack.yaml (at the top or in one folder)")
    return found[0].parent


def discard(token: str) -> None:
    if _is_token(token):
        shutil.rmtree(uploads_root() / token, ignore_errors=True)


def sweep_stale(limits: UploadLimits | None = None) -> int:
    """Remove uploads (and stray zips) older than the time to live; returns how many."""
    limits = limits or UploadLimits.from_config()
    oldest = time.time() - limits.ttl_hours * 3600
    removed = 0
    for entry in uploads_root().iterdir():
        if entry.lstat().st_mtime >= oldest:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
