"""Files of entity records in each store of a test world, stored through the attachments
service: the scoping tests need `entity_attachment` rows on both sides of the wall."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

# A field to add to an entity document (tests.app.conftest.reminder_entity(extra_fields=...)).
FILES_FIELD = {
    "name": "files",
    "label": {"zh": "附件", "en": "Files"},
    "type": "attachment",
    "accept": ["pdf"],
}

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def add_entity_files(app, world, key: str = "inspection_reminder") -> None:
    """One PDF on each record of the entity in the world (one record per store)."""
    from app.configuration import attachments
    from app.configuration.runtime import REGISTRY

    with use_scope(system_scope("tests")):
        runtime = REGISTRY.get(db.session, key, world.tenant_id)
        model = runtime.model
        rows = db.session.scalars(select(model).where(model.tenant_id == world.tenant_id)).all()
        assert {row.org_node_id for row in rows} >= {world.store_a, world.store_b}
        for row in rows:
            attachments.save_file(db.session, runtime, row, "files", "年审.pdf", PDF, "tests")
        db.session.commit()
