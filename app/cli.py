"""`flask` commands: demo data, roles, jobs worker."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.tenancy.scope import system_scope, use_scope

demo_cli = AppGroup("demo", help="Demo data.")
jobs_cli = AppGroup("jobs", help="Background jobs.")
platform_cli = AppGroup("platform", help="Platform set-up: roles, reference data.")
users_cli = AppGroup("users", help="User accounts: unlock, roles, sessions.")


@demo_cli.command("load")
@click.option(
    "--password",
    default=None,
    help="Set this password for every demo user (default: keep theirs; new users get the one "
    "stored in STORAGE_PATH/demo_password, made at the first load).",
)
def demo_load(password: str | None) -> None:
    """Create (or complete) the demo tenant and print the logins.

    Loading again never changes a password silently: users that exist keep theirs and the
    password of the first load is printed again (it is kept in STORAGE_PATH/demo_password).
    Only --password sets a new one, for every demo user."""
    from app.demo.loader import load_demo, stored_demo_password
    from app.security.roles import ROLE_LABELS, sync_roles

    appbuilder = current_app.appbuilder
    stored, password_file = stored_demo_password(password)
    with use_scope(system_scope("cli:demo")):
        sync_roles(appbuilder)
        existing = {user.username for user in appbuilder.sm.get_all_users()}
        logins = load_demo(db.session, appbuilder)
        db.session.flush()
        created = []
        for login in logins:
            if password is None and login.username in existing:
                continue
            user = appbuilder.sm.find_user(username=login.username)
            user.password = generate_password_hash(stored)
            user.fail_login_count, user.locked_until = 0, None
            created.append(login.username)
        db.session.commit()
        installed = install_demo_packs()
    for line in installed:
        click.echo(line)
    click.echo("Demo data ready. Logins (same password for all):")
    for login in logins:
        click.echo(f"  {login.username:<22} {ROLE_LABELS[login.role]!s:<12} {login.node}")
    click.echo(f"\n  admin login:  admin / {stored}")
    if password is not None:
        click.echo("  (set by --password for every demo user)")
    elif len(created) < len(logins):
        click.echo("  (unchanged since the first load; a user who changed it keeps theirs)")
    click.echo(f"  the demo password is kept in {password_file}\n")


def install_demo_packs() -> list[str]:
    """The core pack for the platform and the demo pack for the demo tenant, when missing."""
    from pathlib import Path

    from sqlalchemy import select

    from app.configuration.install import find_installed_pack, install_pack
    from app.configuration.reading import read_pack
    from app.demo.loader import DEMO_TENANT
    from app.organisation.models import Tenant

    packs = Path(__file__).resolve().parent.parent / "metadata" / "packs"
    demo = db.session.scalar(select(Tenant).where(Tenant.code == DEMO_TENANT[0]))
    done = []
    for name, tenant_id in (("core", None), ("demo", demo.id)):
        if find_installed_pack(db.session, name, tenant_id) is None:
            plan = install_pack(db.session, read_pack(packs / name), tenant_id, "cli:demo")
            done.append(f"installed pack {name} {plan.version} ({len(plan.documents)} documents)")
    return done


@platform_cli.command("sync-roles")
def platform_sync_roles() -> None:
    """Make every role's permissions match the policy in app/security/roles.py."""
    from app.security.roles import sync_roles

    with use_scope(system_scope("cli:sync-roles")):
        sync_roles(current_app.appbuilder)
    click.echo("roles synchronised")


@platform_cli.command("load-reference")
def platform_load_reference() -> None:
    """Load brands and cities from the core pack."""
    from app.organisation.reference import load_reference_data

    with use_scope(system_scope("cli:reference")):
        brands, cities = load_reference_data(db.session)
        db.session.commit()
    click.echo(f"added {brands} brands, {cities} cities")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker(burst: bool) -> None:
    """Work the rq queue (needs REDIS_URL). Start as many as the load needs, on any machine."""
    from redis import Redis
    from rq import SimpleWorker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without it jobs run in-process")
    connection = Redis.from_url(url)
    # SimpleWorker runs jobs in this process, which holds the app and its connection pool;
    # a forking worker would share database sockets with its children.
    worker = SimpleWorker([current_app.config["JOB_QUEUE"]], connection=connection)
    worker.work(burst=burst)


def _cli_actor() -> str:
    """Who ran the command, for the audit trail (the OS account; containers may have none)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _user_or_fail(username: str):
    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def _commit_or_fail() -> None:
    """Commit; the grant rules (app/security/grants.py) run at flush for the CLI too."""
    from app.security.grants import GrantRefused

    try:
        db.session.commit()
    except GrantRefused as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from refused


@users_cli.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Lift USERNAME's login locks on every address (audited)."""
    from app.security.throttle import unlock_account

    with use_scope(system_scope(_cli_actor())):
        user = _user_or_fail(username)
        sources = unlock_account(db.session, user, _cli_actor())
        _commit_or_fail()
    click.echo(
        f"{username} unlocked" + (f" (was locked from {', '.join(sources)})" if sources else "")
    )


@users_cli.command("grant")
@click.argument("username")
@click.argument("role")
def users_grant(username: str, role: str) -> None:
    """Give USERNAME the ROLE. A user of a tenant can never be made platform admin."""
    with use_scope(system_scope(_cli_actor())):
        user = _user_or_fail(username)
        found = current_app.appbuilder.sm.find_role(role)
        if found is None:
            raise click.ClickException(f"no role named {role!r}")
        if found not in user.roles:
            user.roles = [*user.roles, found]
        _commit_or_fail()
    click.echo(f"{username}: {', '.join(sorted(r.name for r in user.roles))}")


@users_cli.command("revoke")
@click.argument("username")
@click.argument("role")
def users_revoke(username: str, role: str) -> None:
    """Take ROLE away from USERNAME."""
    with use_scope(system_scope(_cli_actor())):
        user = _user_or_fail(username)
        user.roles = [r for r in user.roles if r.name != role]
        _commit_or_fail()
    click.echo(f"{username}: {', '.join(sorted(r.name for r in user.roles)) or '(no role)'}")


@users_cli.command("logout")
@click.argument("username")
def users_logout(username: str) -> None:
    """End every session and API token of USERNAME at once."""
    with use_scope(system_scope(_cli_actor())):
        user = _user_or_fail(username)
        current_app.appbuilder.sm.end_sessions(user)
        _commit_or_fail()
    click.echo(f"{username}: every session and token ended")


def register_cli(app: Flask) -> None:
    from app.configuration.cli import pack_cli
    from app.monitoring.cli import monitoring_cli

    for group in (demo_cli, jobs_cli, platform_cli, pack_cli, users_cli, monitoring_cli):
        app.cli.add_command(group)
