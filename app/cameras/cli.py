"""`flask cameras ...`: register a camera or give it a new token from the shell; the token is
printed once, for the agent's config."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cameras import services
from app.cameras.models import Camera
from app.extensions import db
from app.organisation.models import NodeKind, OrgNode, Tenant
from app.tenancy.scope import system_scope, use_scope

cameras_cli = AppGroup("cameras", help="Cameras at the store gates.")


def _print_credentials(camera: Camera, token: str) -> None:
    click.echo(f"camera {camera.code} at store {camera.org_node.code} ({camera.org_node.name})")
    click.echo(f"  key_id = {camera.key_id}")
    click.echo(f"  token  = {token}")
    click.echo("  (the token is shown only now)")


@cameras_cli.command("create")
@click.option("--tenant", "tenant_code", required=True, help="Tenant code, e.g. DEMO.")
@click.option("--store", "store_code", required=True, help="Store code, e.g. S3101.")
@click.option("--code", default="GATE-1", show_default=True, help="The agent's camera code.")
@click.option("--name", default=None, help="A name for the console (default: the code).")
@click.option("--heartbeat", default=30, show_default=True, help="Heartbeat interval, seconds.")
def create(tenant_code: str, store_code: str, code: str, name: str | None, heartbeat: int) -> None:
    """Register a camera at a store and print its key id and token."""
    with use_scope(system_scope("cli:cameras")):
        store = db.session.scalar(
            select(OrgNode)
            .join(Tenant, Tenant.id == OrgNode.tenant_id)
            .where(Tenant.code == tenant_code, OrgNode.code == store_code)
        )
        if store is None or store.kind != NodeKind.STORE:
            raise click.ClickException(f"no store {store_code} in tenant {tenant_code}")
        camera, token = services.register_camera(db.session, store, code, name or code, heartbeat)
        db.session.commit()
        _print_credentials(camera, token)


@cameras_cli.command("new-token")
@click.argument("key_id")
def new_token(key_id: str) -> None:
    """Give the camera with KEY_ID a new token (and re-activate it); print the token."""
    with use_scope(system_scope("cli:cameras")):
        camera = db.session.scalar(select(Camera).where(Camera.key_id == key_id))
        if camera is None:
            raise click.ClickException(f"no camera with key id {key_id}")
        token = services.issue_credentials(camera)
        db.session.commit()
        _print_credentials(camera, token)


@cameras_cli.command("list")
def list_cameras() -> None:
    """Every camera: tenant, store, code, key id, status."""
    with use_scope(system_scope("cli:cameras")):
        for camera in db.session.scalars(select(Camera).order_by(Camera.id)):
            click.echo(
                f"{camera.tenant_id:>4} {camera.org_node.code:<8} {camera.code:<10} "
                f"{camera.key_id:<22} {camera.status().value}"
            )
