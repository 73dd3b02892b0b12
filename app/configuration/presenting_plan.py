"""A pack's install plan in a business admin's words: which documents it adds (by kind and
title), which it changes and how (a decision table's rows added, changed and removed; other
documents' fields), and which data tables gain which columns — before anything is installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.configuration.diffing import ADDED, REMOVED, diff_values, table_diff
from app.configuration.entities import EntityDefinition
from app.configuration.install import InstallPlan, current_documents
from app.configuration.presenting import enum_label, text_of
from app.configuration.reading import PackSource, load_schema
from app.configuration.schema_words import field_words

MAX_FIELDS_LISTED = 8


def _kind_labels(lang: str) -> dict[str, str]:
    labels = load_schema("document")["properties"]["kind"]["x-labels"]
    return {kind: text.get(lang) or text["zh"] for kind, text in labels.items()}


def plan_in_words(
    session: Session, plan: InstallPlan, source: PackSource, tenant_id: int | None, lang: str
) -> dict[str, Any]:
    kinds = _kind_labels(lang)
    documents = {(d.kind, d.key): d for d in source.documents}
    current = current_documents(session, tenant_id)
    added, changed, unchanged = [], [], 0
    for change in plan.documents:
        document = documents.get((change.kind, change.key))
        data = document.data if document else {}
        item = {
            "kind": kinds.get(change.kind, change.kind),
            "key": change.key,
            "title": data.get("title") or change.key,
            "old_version": change.old_version,
            "new_version": change.new_version,
            "diff": change.diff,
        }
        if change.status == "new":
            added.append(item)
        elif change.status == "changed":
            before = current.get((change.kind, change.key))
            item["what"] = _what_changed(change.kind, before.data if before else {}, data)
            changed.append(item)
        else:
            unchanged += 1
    return {
        "added": added,
        "changed": changed,
        "unchanged": unchanged,
        "tables": _tables(plan, source, tenant_id, lang),
        "cases_passed": sum(1 for c in plan.cases if c.passed),
        "cases": len(plan.cases),
    }


def _what_changed(kind: str, old: Mapping, new: Mapping) -> list[str]:
    """Sentences saying what changes in a document."""
    if kind == "decision_table":
        diff = table_diff(old.get("body") or {}, new.get("body") or {})
        counts = diff.counts
        said = []
        if counts["added"] or counts["changed"] or counts["removed"]:
            said.append(
                _(
                    "Rows: %(added)s added, %(changed)s changed, %(removed)s removed",
                    added=counts["added"],
                    changed=counts["changed"],
                    removed=counts["removed"],
                )
            )
        new_columns = [c["label"] for c in diff.columns if c["status"] == "added"]
        if new_columns:
            said.append(_("New columns: %(columns)s", columns="、".join(new_columns)))
        gone = [c["label"] for c in diff.columns if c["status"] == "removed"]
        if gone:
            said.append(_("Columns removed: %(columns)s", columns="、".join(gone)))
        rest = [c for c in diff.settings if c.parts[:1] != ("rules",)]
        return said + _fields(rest, old, new)
    return _fields(diff_values(old, new), old, new)


def _fields(changes, old: Mapping, new: Mapping) -> list[str]:
    """Items added to or removed from a list, by name; the other changed fields, by place."""
    said, places = [], []
    for change in changes:
        if change.parts[:1] == ("version",):
            continue
        source = new if change.status != REMOVED else old
        if change.status in (ADDED, REMOVED) and change.parts and isinstance(change.parts[-1], int):
            place = field_words(source, list(change.parts[:-1]))
            item = _item_name(change.new if change.status == ADDED else change.old)
            if change.status == ADDED:
                said.append(_("Added to %(place)s: %(item)s", place=place, item=item))
            else:
                said.append(_("Removed from %(place)s: %(item)s", place=place, item=item))
            continue
        place = field_words(source, list(change.parts))
        if place not in places:
            places.append(place)
    if places:
        shown = "、".join(places[:MAX_FIELDS_LISTED])
        if len(places) > MAX_FIELDS_LISTED:
            shown += _(" and %(count)s more", count=len(places) - MAX_FIELDS_LISTED)
        said.append(_("Changed: %(fields)s", fields=shown))
    return said


def _item_name(value: Any) -> str:
    if isinstance(value, Mapping):
        label = text_of(value.get("label") or value.get("name"))
        key = next((value[k] for k in ("name", "code", "key", "field") if value.get(k)), "")
        return f"{label}（{key}）" if label and key and label != key else str(label or key)
    return str(value)


ACTIONS = {
    "create_table": _l("New data table"),
    "create_child_table": _l("New detail table"),
    "add_column": _l("New column"),
    "add_child_column": _l("New column of a detail table"),
    "add_files": _l("New attachment field"),
    "rename_column": _l("Column renamed"),
    "retype_column": _l("Column type changed"),
    "drop_column": _l("Column removed, its data discarded"),
    "keep_column": _l("Column hidden, its data kept"),
}


def _tables(plan: InstallPlan, source: PackSource, tenant_id: int | None, lang: str) -> list[dict]:
    """Each data table the pack creates or changes, named by its entity, with its columns."""
    entities = {}
    for document in source.documents:
        if document.kind != "entity":
            continue
        body = document.data["body"]
        definition = EntityDefinition(body["name"], tenant_id, body)
        fields = {f["name"]: f for f in body.get("fields", [])}
        entities[definition.table] = (text_of(body.get("label"), lang) or body["name"], fields)
    tables = []
    for table_plan in plan.tables:
        label, fields = entities.get(table_plan.table, (table_plan.table, {}))
        changes = []
        for change in table_plan.changes:
            spec = fields.get(change.column or "", {})
            column = text_of(spec.get("label"), lang) if spec else ""
            name = change.column or ""
            changes.append(
                {
                    "action": str(ACTIONS.get(change.action, change.action)),
                    "column": f"{column}（{name}）" if column else name,
                    "type": enum_label("field_type", spec.get("type"), lang) if spec else "",
                    "raw": str(change),
                }
            )
        tables.append(
            {
                "entity": label,
                "table": table_plan.table,
                "changes": changes,
                "refusals": list(table_plan.refusals),
            }
        )
    return tables
