"""`flask pack …`: validate, test, install, upgrade (with --dry-run), export and list packs."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml
from flask.cli import AppGroup
from sqlalchemy import select

from app.configuration.cases import run_cases
from app.configuration.install import (
    current_documents,
    find_installed_pack,
    install_pack,
    plan_install,
)
from app.configuration.models import Document, InstalledPack
from app.configuration.reading import KIND_FOLDERS, PackError, read_pack
from app.extensions import db
from app.organisation.models import Tenant
from app.tenancy.scope import system_scope, use_scope

pack_cli = AppGroup("pack", help="Metadata packs: validate, test, install, upgrade, export.")


class PackRefused(click.ClickException):
    """The pack was refused and nothing was written: exit 2 (exit 1 is failed test cases)."""

    exit_code = 2


def _read(path: str):
    try:
        return read_pack(Path(path))
    except PackError as exc:
        raise PackRefused(f"pack refused:\n{exc}") from exc


def _tenant_id(code: str | None) -> int | None:
    if not code:
        return None
    tenant = db.session.scalar(select(Tenant).where(Tenant.code == code))
    if tenant is None:
        raise click.ClickException(f"--tenant: no tenant with code {code!r}")
    return tenant.id


@pack_cli.command("validate")
@click.argument("path")
def validate(path: str) -> None:
    """Check a pack folder against the schemas (no database needed)."""
    source = _read(path)
    click.echo(f"{source.name} {source.version}: {len(source.documents)} documents valid")


@pack_cli.command("test")
@click.argument("path")
def test(path: str) -> None:
    """Run the test cases a pack carries."""
    source = _read(path)
    with use_scope(system_scope("cli:pack")):
        extra = [v.data for v in current_documents(db.session, None).values()]
    results = run_cases(source.documents, extra)
    for result in results:
        click.echo(str(result))
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


@pack_cli.command("install")
@click.argument("path")
@click.option("--tenant", "tenant_code", default=None, help="Tenant code (default: the platform).")
def install(path: str, tenant_code: str | None) -> None:
    """Install (or upgrade) a pack: all of it or nothing."""
    source = _read(path)
    with use_scope(system_scope("cli:pack")):
        try:
            plan = install_pack(db.session, source, _tenant_id(tenant_code), "cli")
        except PackError as exc:
            raise PackRefused(f"pack refused, nothing installed:\n{exc}") from exc
    click.echo(plan.render(with_diff=False))
    click.echo("installed")


@pack_cli.command("upgrade")
@click.argument("path")
@click.option("--tenant", "tenant_code", default=None)
@click.option("--dry-run", is_flag=True, help="Print the diff and table changes; change nothing.")
def upgrade(path: str, tenant_code: str | None, dry_run: bool) -> None:
    """Upgrade an installed pack, showing per document diffs and table changes."""
    source = _read(path)
    with use_scope(system_scope("cli:pack")):
        tenant_id = _tenant_id(tenant_code)
        if dry_run:
            plan = plan_install(db.session, source, tenant_id)
            db.session.rollback()
            click.echo(plan.render())
            if not plan.ok:
                raise SystemExit(1)
            return
        try:
            plan = install_pack(db.session, source, tenant_id, "cli")
        except PackError as exc:
            raise PackRefused(f"upgrade refused, nothing changed:\n{exc}") from exc
    click.echo(plan.render())
    click.echo("upgraded")


@pack_cli.command("sweep-uploads")
def sweep_uploads() -> None:
    """Remove console uploads never installed nor cancelled, older than PACK_UPLOAD_TTL_HOURS."""
    from app.configuration.uploads import sweep_stale

    click.echo(f"removed {sweep_stale()} stale uploads")


@pack_cli.command("list")
def list_packs() -> None:
    """Installed packs."""
    with use_scope(system_scope("cli:pack")):
        for pack in db.session.scalars(select(InstalledPack).order_by(InstalledPack.name)):
            owner = "platform" if pack.tenant_id is None else f"tenant {pack.tenant_id}"
            click.echo(f"{pack.name:<20} {pack.version:<10} {owner}")


@pack_cli.command("export")
@click.argument("name")
@click.argument("out")
@click.option("--tenant", "tenant_code", default=None)
def export(name: str, out: str, tenant_code: str | None) -> None:
    """Write an installed pack (its current document versions) to a folder."""
    with use_scope(system_scope("cli:pack")):
        tenant_id = _tenant_id(tenant_code)
        pack = find_installed_pack(db.session, name, tenant_id)
        if pack is None:
            raise click.ClickException(f"pack {name!r} is not installed")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pack.yaml").write_text(_yaml(json.loads(pack.manifest)), encoding="utf-8")
        documents = db.session.scalars(select(Document).where(Document.pack_id == pack.id)).all()
        for document in documents:
            target = folder / KIND_FOLDERS[document.kind] / f"{document.key}.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_yaml(document.current_version.data), encoding="utf-8")
    click.echo(f"exported {len(documents)} documents to {folder}")


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
