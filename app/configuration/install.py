"""Installing and upgrading packs: plan (diff, table changes, test cases), then apply in one
transaction — all of the pack or nothing of it."""

from __future__ import annotations

import datetime
import difflib
import json
from dataclasses import dataclass, field

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.configuration.cases import CaseResult, run_cases
from app.configuration.entities import (
    EntityDefinition,
    TablePlan,
    apply_changes,
    plan_changes,
)
from app.configuration.entity_checks import engine_problems
from app.configuration.kinds import CheckContext, PublishContext, UnknownKind, kind_spec, rule_kinds
from app.configuration.models import (
    Document,
    DocumentVersion,
    InstalledPack,
    MetadataEpoch,
    VersionStatus,
)
from app.configuration.reading import PackError, PackSource, Problem, SourceDocument

CORE_REFERENCE_TARGETS = {"customer", "vehicle", "org_node", "user"}
SYSTEM_LAYOUT_FIELDS = {"org_node", "created_at", "changed_at", "created_by"}


@dataclass
class DocumentChange:
    kind: str
    key: str
    file: str
    old_version: str | None
    new_version: str
    status: str  # new, changed, unchanged
    diff: str = ""


@dataclass
class InstallPlan:
    pack: str
    version: str
    tenant_id: int | None
    previous_version: str | None = None
    documents: list[DocumentChange] = field(default_factory=list)
    tables: list[TablePlan] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, with_diff: bool = True) -> str:
        owner = "platform" if self.tenant_id is None else f"tenant {self.tenant_id}"
        head = f"pack {self.pack} {self.previous_version or '(new)'} → {self.version} for {owner}"
        lines = [head]
        for change in self.documents:
            old = change.old_version or "-"
            lines.append(
                f"  {change.status:<9} {change.kind} {change.key} {old} → {change.new_version}"
            )
            if with_diff and change.diff:
                lines += ["      " + line for line in change.diff.splitlines()]
        for table in self.tables:
            for table_change in table.changes:
                lines.append(f"  table {table.table}: {table_change}")
            for refusal in table.refusals:
                lines.append(f"  table {table.table}: REFUSED {refusal}")
        failed = [c for c in self.cases if not c.passed]
        lines.append(f"  test cases: {len(self.cases) - len(failed)} passed, {len(failed)} failed")
        lines += ["  " + str(c) for c in failed]
        lines += [f"  ERROR {p}" for p in self.problems]
        return "\n".join(lines)


def plan_install(session: Session, source: PackSource, tenant_id: int | None) -> InstallPlan:
    """Everything installing `source` would do, and every reason it cannot. Writes nothing."""
    installed = _installed_packs(session, tenant_id)
    existing = installed.get(source.name)
    plan = InstallPlan(
        source.name,
        source.version,
        tenant_id,
        existing.version if existing and existing.tenant_id == tenant_id else None,
    )
    plan.problems += _owner_problems(source, tenant_id)
    plan.problems += _version_problems(source, plan.previous_version)
    plan.problems += _requirement_problems(source, installed)
    current = current_documents(session, tenant_id)
    plan.problems += _platform_reuse_problems(source, current, tenant_id)
    for document in source.documents:
        plan.documents.append(
            _document_change(document, current.get((document.kind, document.key)))
        )
        plan.problems += _version_raise_problems(source.name, document, plan.documents[-1])
    plan.problems += _kind_problems(source, current, tenant_id, plan)
    rule_documents = rule_kinds()
    extra = [
        v.data
        for (kind, _), v in current.items()
        if kind in rule_documents and v.document.pack_id != (existing.id if existing else None)
    ]
    plan.cases = run_cases(source.documents, extra)
    for case in plan.cases:
        if not case.passed:
            plan.problems.append(
                Problem(source.name, case.file, f"test case {case.case!r} failed: {case.detail}")
            )
    return plan


def install_pack(
    session: Session, source: PackSource, tenant_id: int | None, actor: str
) -> InstallPlan:
    """Install or upgrade the pack in one transaction; raise PackError (nothing written) if the
    plan has problems or anything fails on the way."""
    plan = plan_install(session, source, tenant_id)
    if not plan.ok:
        session.rollback()
        raise PackError(plan.problems)
    try:
        _apply(session, source, tenant_id, actor, plan)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return plan


def _apply(session: Session, source, tenant_id, actor, plan: InstallPlan) -> None:
    pack = _pack_row(session, source, tenant_id, actor)
    current = current_documents(session, tenant_id)
    now = utcnow()
    publishing = []
    for document, change in zip(source.documents, plan.documents, strict=True):
        if change.status == "unchanged":
            continue
        previous = current.get((document.kind, document.key))
        row = previous.document if previous is not None else None
        if row is None:
            row = Document(
                kind=document.kind,
                key=document.key,
                tenant_id=tenant_id,
                org_node_id=_root(session, tenant_id),
            )
            session.add(row)
        row.pack = pack
        version = DocumentVersion(
            document=row,
            tenant_id=tenant_id,
            org_node_id=row.org_node_id,
            version=document.data["version"],
            status=VersionStatus.PUBLISHED,
            title=document.data.get("title", ""),
            content=json.dumps(document.data, ensure_ascii=False),
            effective_from=_date(document.data.get("effective_from")),
            source_file=document.file,
            created_by=actor,
            published_at=now,
            published_by=actor,
        )
        session.add(version)
        session.flush()
        row.current_version = version
        on_publish = kind_spec(document.kind).on_publish
        if on_publish is not None:
            publishing.append(
                (on_publish, PublishContext(session, version, previous, document.data, tenant_id))
            )
    session.flush()  # data first: SQLite then runs the DDL of entities inside this transaction
    for on_publish, context in publishing:
        on_publish(context)
    bump_epoch(session)


def publish_entity_tables(
    session: Session,
    previous: DocumentVersion | None,
    data: dict,
    version: DocumentVersion,
    tenant_id: int | None,
) -> TablePlan:
    old = EntityDefinition(previous.body["name"], tenant_id, previous.body) if previous else None
    new = EntityDefinition(data["body"]["name"], tenant_id, data["body"], version.id)
    plan = plan_changes(old, new)
    if plan.refusals:
        raise PackError([Problem(data["key"], version.source_file or "", r) for r in plan.refusals])
    apply_changes(session.connection(), old, new, plan)
    return plan


def bump_epoch(session: Session) -> None:
    session.execute(
        update(MetadataEpoch).where(MetadataEpoch.id == 1).values(epoch=MetadataEpoch.epoch + 1)
    )


def find_installed_pack(session: Session, name: str, tenant_id: int | None) -> InstalledPack | None:
    """The pack `name` installed for exactly this owner (the platform when tenant_id is None)."""
    owner = (
        InstalledPack.tenant_id.is_(None)
        if tenant_id is None
        else InstalledPack.tenant_id == tenant_id
    )
    return session.scalar(select(InstalledPack).where(InstalledPack.name == name, owner))


def _pack_row(session, source: PackSource, tenant_id, actor) -> InstalledPack:
    pack = find_installed_pack(session, source.name, tenant_id)
    if pack is None:
        pack = InstalledPack(
            name=source.name, tenant_id=tenant_id, org_node_id=_root(session, tenant_id)
        )
        session.add(pack)
    title = source.manifest.get("title")
    pack.version = source.version
    pack.title = title.get("zh") if isinstance(title, dict) else title
    pack.description = source.manifest.get("description")
    pack.manifest = json.dumps(source.manifest, ensure_ascii=False, default=str)
    pack.installed_at, pack.installed_by = utcnow(), actor
    session.flush()
    return pack


def _root(session: Session, tenant_id: int | None) -> int | None:
    if tenant_id is None:
        return None
    from app.organisation.models import OrgNode

    return session.scalar(
        select(OrgNode.id).where(OrgNode.tenant_id == tenant_id, OrgNode.parent_id.is_(None))
    )


def _installed_packs(session: Session, tenant_id: int | None) -> dict[str, InstalledPack]:
    """Packs visible to the owner: the platform's, then the tenant's own (which win)."""
    rows = session.scalars(select(InstalledPack)).all()
    visible = {}
    for pack in sorted(rows, key=lambda p: p.tenant_id is not None):
        if pack.tenant_id is None or pack.tenant_id == tenant_id:
            visible[pack.name] = pack
    return visible


def current_documents(
    session: Session, tenant_id: int | None
) -> dict[tuple[str, str], DocumentVersion]:
    """The current published version of each document the owner sees (its own win)."""
    rows = session.scalars(select(Document).where(Document.current_version_id.is_not(None))).all()
    current = {}
    for document in sorted(rows, key=lambda d: d.tenant_id is not None):
        if document.tenant_id is None or document.tenant_id == tenant_id:
            current[(document.kind, document.key)] = document.current_version
    return current


def _owner_problems(source: PackSource, tenant_id: int | None) -> list[Problem]:
    if source.manifest.get("tenant_scoped") and tenant_id is None:
        return [
            Problem(
                source.name,
                "pack.yaml",
                "this pack is tenant-scoped: install it for a tenant (--tenant CODE)",
                None,
                "$.tenant_scoped",
            )
        ]
    return []


def _platform_reuse_problems(
    source: PackSource, current: dict[tuple[str, str], DocumentVersion], tenant_id: int | None
) -> list[Problem]:
    """A tenant pack may not reuse the kind and key of a platform document: the platform's
    document is shared by every tenant and cannot become one tenant's."""
    if tenant_id is None:
        return []
    problems = []
    for document in source.documents:
        existing = current.get((document.kind, document.key))
        if existing is None or existing.document.tenant_id is not None:
            continue
        owner = existing.document.pack.name if existing.document.pack else "the platform"
        problems.append(
            Problem(
                source.name,
                document.file,
                f"{document.kind} {document.key!r} is a platform document (pack {owner}); "
                "a tenant pack cannot reuse its kind and key: choose another key",
                document.line_of("$.key"),
                "$.key",
            )
        )
    return problems


def _version_problems(source: PackSource, previous: str | None) -> list[Problem]:
    try:
        new = Version(source.version)
    except InvalidVersion:
        return [
            Problem(
                source.name,
                "pack.yaml",
                f"version {source.version!r} is not semver",
                None,
                "$.version",
            )
        ]
    if previous and new < Version(previous):
        return [
            Problem(
                source.name,
                "pack.yaml",
                f"version {new} is older than the installed {previous}",
                None,
                "$.version",
            )
        ]
    return []


def _requirement_problems(source: PackSource, installed: dict[str, InstalledPack]) -> list[Problem]:
    problems = []
    for name, wanted in (source.manifest.get("requires") or {}).items():
        path = f"$.requires.{name}"
        try:
            spec = SpecifierSet(wanted)
        except InvalidSpecifier:
            problems.append(
                Problem(source.name, "pack.yaml", f"bad version range {wanted!r}", None, path)
            )
            continue
        have = installed.get(name)
        if have is None:
            problems.append(
                Problem(
                    source.name,
                    "pack.yaml",
                    f"requires pack {name} {wanted}, which is not installed",
                    None,
                    path,
                )
            )
        elif Version(have.version) not in spec:
            problems.append(
                Problem(
                    source.name,
                    "pack.yaml",
                    f"requires pack {name} {wanted}, installed is {have.version}",
                    None,
                    path,
                )
            )
    return problems


def _document_change(document: SourceDocument, current: DocumentVersion | None) -> DocumentChange:
    new_version = document.data["version"]
    if current is None:
        return DocumentChange(document.kind, document.key, document.file, None, new_version, "new")
    if current.data == document.data:
        return DocumentChange(
            document.kind, document.key, document.file, current.version, new_version, "unchanged"
        )
    diff = "\n".join(
        difflib.unified_diff(
            _as_yaml(current.data).splitlines(),
            _as_yaml(document.data).splitlines(),
            f"{current.version}",
            f"{new_version}",
            lineterm="",
        )
    )
    return DocumentChange(
        document.kind, document.key, document.file, current.version, new_version, "changed", diff
    )


def _version_raise_problems(
    pack: str, document: SourceDocument, change: DocumentChange
) -> list[Problem]:
    if change.status != "changed":
        return []
    try:
        raised = Version(change.new_version) > Version(change.old_version)
    except InvalidVersion:
        raised = False
    if raised:
        return []
    return [
        Problem(
            pack,
            document.file,
            f"content changed but version {change.new_version} is not above {change.old_version}",
            document.line_of("$.version"),
            "$.version",
        )
    ]


def _kind_problems(source: PackSource, current, tenant_id, plan: InstallPlan) -> list[Problem]:
    """Each document's checks beyond the schema, by its kind (app.configuration.kinds)."""
    context = CheckContext(source.name, source.documents, current, tenant_id)
    problems = []
    for document in source.documents:
        try:
            problems += kind_spec(document.kind).check(document, context)
        except UnknownKind as exc:
            problems.append(
                Problem(source.name, document.file, str(exc), document.line_of("$.kind"), "$.kind")
            )
    plan.tables += context.tables
    return problems


def entity_problems(document: SourceDocument, context: CheckContext) -> list[Problem]:
    """An entity's layout names its fields, its references resolve, and the change to its table
    is allowed (the table plan goes to the context, shown in the install plan)."""
    entity_names = {key for kind, key in context.current if kind == "entity"} | {
        d.data["body"]["name"] for d in context.documents if d.kind == "entity"
    }
    body = document.data["body"]
    problems = _layout_problems(context.pack, document, body, entity_names)
    problems += [
        Problem(context.pack, document.file, message, document.line_of(path), path)
        for path, message in engine_problems(body, entity_names)
    ]
    previous = context.current.get(("entity", document.key))
    tenant_id = context.tenant_id
    old = EntityDefinition(previous.body["name"], tenant_id, previous.body) if previous else None
    table_plan = plan_changes(old, EntityDefinition(body["name"], tenant_id, body))
    context.tables.append(table_plan)
    problems += [
        Problem(context.pack, document.file, r, document.line_of("$.body.fields"), "$.body.fields")
        for r in table_plan.refusals
    ]
    return problems


def _layout_problems(
    pack: str, document: SourceDocument, body: dict, entity_names: set[str]
) -> list[Problem]:
    declared = {f["name"] for f in body["fields"]} | SYSTEM_LAYOUT_FIELDS
    problems = []
    layouts = [
        ("list_columns", body.get("list_columns", [])),
        ("search_fields", body.get("search_fields", [])),
    ]
    layouts += [
        (f"form_sections[{i}].fields", s["fields"])
        for i, s in enumerate(body.get("form_sections", []))
    ]
    for where, names in layouts:
        for index, name in enumerate(names):
            if name not in declared:
                path = f"$.body.{where}[{index}]"
                problems.append(
                    Problem(
                        pack,
                        document.file,
                        f"{name!r} is not a field of the entity",
                        document.line_of(path),
                        path,
                    )
                )
    for index, spec in enumerate(body["fields"]):
        target = spec.get("target")
        if spec["type"] == "reference" and target not in CORE_REFERENCE_TARGETS | entity_names:
            path = f"$.body.fields[{index}].target"
            problems.append(
                Problem(
                    pack,
                    document.file,
                    f"reference target {target!r} is neither a core model nor an entity",
                    document.line_of(path),
                    path,
                )
            )
    return problems


def _as_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _date(value) -> datetime.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def publish_version(session: Session, version: DocumentVersion, actor: str) -> None:
    """Publish a draft: check it like a pack document (schema, cases), then make it current,
    altering the entity's table when it is one — in one transaction."""
    from app.configuration.reading import schema_problems

    if version.status != VersionStatus.DRAFT:
        raise PackError([Problem("console", str(version), "only a draft can be published")])
    data = version.data
    document = version.document
    file = version.source_file or f"{document.kind}/{document.key}"
    problems = schema_problems("document", data, "console", file, {})
    current = document.current_version
    if current is not None and Version(data["version"]) <= Version(current.version):
        problems.append(
            Problem("console", file, f"version must be above {current.version}", None, "$.version")
        )
    spec = kind_spec(document.kind)
    visible = current_documents(session, document.tenant_id)
    if not problems:
        source = SourceDocument(file, data)
        context = CheckContext("console", [source], visible, document.tenant_id)
        problems += spec.check(source, context)
    if not problems:
        rule_documents = rule_kinds()
        others = [
            v.data
            for (kind, key), v in visible.items()
            if kind in rule_documents and key != document.key
        ]
        failed = [c for c in run_cases([SourceDocument(file, data)], others) if not c.passed]
        problems += [
            Problem("console", file, f"test case {c.case!r} failed: {c.detail}") for c in failed
        ]
    if problems:
        session.rollback()
        raise PackError(problems)
    try:
        version.effective_from = version.effective_from or _date(data.get("effective_from"))
        version.status = VersionStatus.PUBLISHED
        version.published_at, version.published_by = utcnow(), actor
        document.current_version = version
        session.flush()
        if spec.on_publish is not None:
            spec.on_publish(PublishContext(session, version, current, data, document.tenant_id))
        bump_epoch(session)
        session.commit()
    except Exception:
        session.rollback()
        raise


def save_draft(session: Session, document: Document, data: dict, actor: str) -> DocumentVersion:
    """Keep an edited document as a draft version (validated when it is published)."""
    draft = DocumentVersion(
        document=document,
        tenant_id=document.tenant_id,
        org_node_id=document.org_node_id,
        version=str(data.get("version", "")),
        status=VersionStatus.DRAFT,
        title=str(data.get("title", "")),
        content=json.dumps(data, ensure_ascii=False, default=str),
        created_by=actor,
    )
    session.add(draft)
    session.commit()
    return draft
