"""Files of entity records: `attachment` fields (several files) and `photo` fields (one image).

A file is judged by its first bytes, never by its name or the browser's word: PDF, JPEG, PNG,
WebP and the Office Open XML formats (xlsx, docx) are known; everything else — SVG, HTML,
scripts, executables — is refused. Images are opened, checked against a pixel limit (no
decompression bombs) and re-encoded, which drops EXIF (a photo's GPS position) and anything
hidden after the image data. Files live under STORAGE_PATH/entity-files/<tenant>/ with random
names; their rows (EntityAttachment) carry the record's tenant and org node, so the tenant
guard and row security serve a file only to those who see its record.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.configuration.models import EntityAttachment
from app.configuration.runtime import EntityRuntime
from app.errors import ValidationFailed

MB = 1024 * 1024
DEFAULT_MAX_MB = {"attachment": 10, "photo": 5}
HARD_MAX_MB = 20
DEFAULT_MAX_FILES = 20
MAX_PIXELS = 40_000_000
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "webp": ("image/webp", "webp"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
GROUPS = {"pdf": {"pdf"}, "image": {"jpeg", "png", "webp"}, "office": {"xlsx", "docx"}}
IMAGES = GROUPS["image"]


def _refuse(field: str, english: str, chinese: str):
    return ValidationFailed(f"{field}: {english}", f"{field}：{chinese}", field=field)


def sniff(data: bytes) -> str | None:
    """The kind of file `data` is, from its bytes, or None when it is none we take."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "word/document.xml" in names:
                return "docx"
    return None


def accepted_kinds(spec: dict) -> set[str]:
    if spec["type"] == "photo":
        return set(IMAGES)
    groups = spec.get("accept") or list(GROUPS)
    return set().union(*(GROUPS[g] for g in groups))


def _reencode(field: str, data: bytes, kind: str, as_photo: bool) -> tuple[bytes, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse(field, "the image has too many pixels", "图片像素过多")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            out = io.BytesIO()
            if as_photo or kind == "jpeg":
                image.convert("RGB").save(out, "JPEG", quality=88)
                return out.getvalue(), "jpeg"
            if kind == "png":
                image.save(out, "PNG")
            else:
                image.save(out, "WEBP", quality=88)
            return out.getvalue(), kind
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse(
            field, "the image cannot be read", "图片无法读取（文件已损坏或不是图片）"
        ) from None


def clean_filename(name: str | None, extension: str) -> str:
    stem = Path(str(name or "file").replace("\\", "/")).name
    stem = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]", "", stem).strip(" .") or "file"
    stem = stem.rsplit(".", 1)[0][:120] if "." in stem else stem[:120]
    return f"{stem}.{extension}"


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_PATH"]) / "entity-files"


def files_of(session: Session, runtime: EntityRuntime, record) -> list[EntityAttachment]:
    return list(
        session.scalars(
            select(EntityAttachment)
            .where(
                EntityAttachment.record_table == runtime.definition.table,
                EntityAttachment.record_id == record.id,
            )
            .order_by(EntityAttachment.id)
        )
    )


def save_file(
    session: Session,
    runtime: EntityRuntime,
    record,
    field_name: str,
    filename: str | None,
    data: bytes,
    username: str,
) -> EntityAttachment:
    """Check and store one uploaded file of `record`'s field (flushes, does not commit). A
    photo replaces the field's previous one."""
    spec = runtime.definition.field(field_name)
    if spec is None or spec["type"] not in ("attachment", "photo"):
        raise _refuse(field_name, "is not a file field", "不是附件或照片字段")
    limit = min(spec.get("max_size_mb", DEFAULT_MAX_MB[spec["type"]]), HARD_MAX_MB) * MB
    if not data:
        raise _refuse(field_name, "the file is empty", "文件为空")
    if len(data) > limit:
        raise _refuse(
            field_name, f"the file is larger than {limit // MB} MB", f"文件超过 {limit // MB} MB"
        )
    kind = sniff(data)
    allowed = accepted_kinds(spec)
    if kind not in allowed:
        names = "、".join(sorted(KINDS[k][1] for k in allowed))
        raise _refuse(
            field_name,
            f"this type of file is not accepted (accepted: {names}; SVG, HTML and scripts never)",
            f"不接受此类文件（可上传：{names}；SVG、HTML 和脚本一律不收）",
        )
    if kind in IMAGES:
        data, kind = _reencode(field_name, data, kind, spec["type"] == "photo")
    existing = [f for f in files_of(session, runtime, record) if f.field == field_name]
    if spec["type"] == "photo":
        for old in existing:
            delete_file(session, old)
    elif len(existing) >= spec.get("max_files", DEFAULT_MAX_FILES):
        most = spec.get("max_files", DEFAULT_MAX_FILES)
        raise _refuse(field_name, f"at most {most} files", f"最多 {most} 个文件")
    content_type, extension = KINDS[kind]
    key = f"{record.tenant_id}/{uuid.uuid4().hex}.{extension}"
    path = storage_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.info.setdefault(WRITTEN, []).append(path)
    attachment = EntityAttachment(
        record_table=runtime.definition.table,
        record_id=record.id,
        field=field_name,
        filename=clean_filename(filename, extension),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        created_by=username,
        tenant_id=record.tenant_id,
        org_node_id=record.org_node_id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def get_file(session: Session, runtime: EntityRuntime, record, file_id: int):
    """The file `file_id` of `record`, or None (another record's, or outside the scope)."""
    found = session.get(EntityAttachment, file_id)
    if (
        found is None
        or found.record_table != runtime.definition.table
        or found.record_id != record.id
    ):
        return None
    return found


def read_bytes(attachment: EntityAttachment) -> bytes:
    return (storage_root() / attachment.storage_key).read_bytes()


# The files a transaction wrote and those it deleted: the bytes follow the rows, so a file
# deleted is removed when its row's deletion commits, and a file written is removed again when
# the transaction that recorded it rolls back.
WRITTEN, DELETED = "entity_files_written", "entity_files_deleted"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    for path in session.info.pop(DELETED, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(DELETED, None)
    for path in session.info.pop(WRITTEN, []):
        path.unlink(missing_ok=True)


def delete_file(session: Session, attachment: EntityAttachment) -> None:
    """Forget the file (audited as a deleted row); its bytes go when that commits."""
    session.info.setdefault(DELETED, []).append(storage_root() / attachment.storage_key)
    session.delete(attachment)
    session.flush()


def delete_files_of(session: Session, runtime: EntityRuntime, record) -> None:
    for attachment in files_of(session, runtime, record):
        delete_file(session, attachment)


def move_files(session: Session, runtime: EntityRuntime, record) -> None:
    """Files follow their record to another store."""
    for attachment in files_of(session, runtime, record):
        attachment.org_node_id = record.org_node_id
