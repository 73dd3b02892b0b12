"""Operator commands of the policy book: `flask policies import`, `flask policies expire`."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.errors import DomainError, as_domain_error
from app.extensions import db
from app.organisation.models import OrgNode, Tenant
from app.tenancy.scope import Scope, system_scope, use_scope

policies_cli = AppGroup("policies", help="The policy book: import an existing book, expiry.")


def _tenant_scope(code: str | None) -> tuple[Scope, int | None]:
    """The tenant's headquarters scope (what an import may write), or the platform's."""
    if not code:
        return system_scope("cli"), None
    with use_scope(system_scope("cli")):
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == code))
        if tenant is None:
            raise click.BadParameter(f"no tenant {code}", param_hint="--tenant")
        root = db.session.scalar(
            select(OrgNode).where(OrgNode.tenant_id == tenant.id, OrgNode.parent_id.is_(None))
        )
        scope = Scope(
            tenant_id=tenant.id, node_id=root.id, node_path=root.path, username=f"cli:{code}"
        )
        db.session.expunge_all()
        return scope, tenant.id


@policies_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_key", required=True, help="policy_import_mapping key")
@click.option("--tenant", "tenant_code", help="tenant code (required when several exist)")
@click.option("--store", "store_code", help="store code for rows without one")
@click.option(
    "--accept-good-rows", is_flag=True, help="import the good rows of a file with bad ones"
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the refused rows to this .xlsx",
)
def import_command(file, mapping_key, tenant_code, store_code, accept_good_rows, errors_path):
    """Import FILE (Excel or CSV) of existing policies; prints a JSON summary. Nothing is
    imported when a row is refused, unless --accept-good-rows."""
    from app.policies import importing

    scope, tenant_id = _tenant_scope(tenant_code)
    with use_scope(scope):
        try:
            mapping = importing.load_mapping(db.session, mapping_key, tenant_id)
            summary = importing.import_file(
                db.session,
                file,
                mapping,
                default_store=store_code,
                tenant_id=tenant_id,
                accept_good_rows=accept_good_rows,
                source_name=file.name,
            )
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            error = as_domain_error(exc)
            if error is None:
                raise
            click.echo(json.dumps(_refusal(error), ensure_ascii=False, indent=2))
            sys.exit(2)
    if errors_path is not None and summary.errors:
        errors_path.write_bytes(importing.error_workbook(summary))
    click.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    if summary.errors and not summary.imported:
        sys.exit(1)


def _refusal(error: DomainError) -> dict:
    return {"imported": False, "refused": error.to_json("en"), "message_zh": error.message("zh")}


@policies_cli.command("expire")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="default: today")
def expire_command(today):
    """Mark policies past their end date as 已到期."""
    from app.policies.services import expire_due

    day = today.date() if today else datetime.date.today()
    with use_scope(system_scope("cli")):
        count = expire_due(db.session, day)
        db.session.commit()
    click.echo(json.dumps({"expired": count, "today": day.isoformat()}))
