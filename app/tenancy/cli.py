"""`flask db-roles`: the database roles and the row-level security of every tenant table."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.tenancy.row_security import (
    apply_database_roles,
    entity_tables,
    tables_without_row_security,
    tenant_tables,
)


@click.command("db-roles")
@click.option("--owner", default="dealercover_owner", show_default=True, help="Owner role.")
@click.option("--app", "app_role", default="dealercover_app", show_default=True, help="App role.")
@click.option(
    "--owner-password-env",
    default="",
    help="Name of an environment variable holding the owner's password (set when given).",
)
@click.option(
    "--app-password-env",
    default="",
    help="Name of an environment variable holding the app role's password (set when given).",
)
@click.option("--check", is_flag=True, help="Only report tenant tables without row security.")
@with_appcontext
def db_roles(
    owner: str, app_role: str, owner_password_env: str, app_password_env: str, check: bool
) -> None:
    """Create or update the owner and app roles (scripts/db_roles.sql), refuse TRUNCATE on the
    audit table, and put every tenant table and entity table behind row-level security.
    PostgreSQL only; run as a superuser after every `flask db upgrade`."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        raise click.ClickException("database roles and row-level security need PostgreSQL")
    if check:
        with engine.connect() as connection:
            missing = tables_without_row_security(
                connection, [*tenant_tables(), *entity_tables(connection)]
            )
        for table in missing:
            click.echo(f"no row-level security: {table}")
        if missing:
            raise click.ClickException(f"{len(missing)} tenant tables unprotected: run db-roles")
        click.echo("every tenant table is behind row-level security")
        return
    passwords = {}
    for role, variable in ((owner, owner_password_env), (app_role, app_password_env)):
        if variable:
            if not os.environ.get(variable):
                raise click.ClickException(f"{variable} is not set")
            passwords[role] = os.environ[variable]
    try:
        with engine.begin() as connection:
            done = apply_database_roles(connection, owner, app_role, passwords)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"roles: owner {owner}, app {app_role}")
    click.echo(f"row-level security: {len(done['tenant_tables'])} tenant tables")
    click.echo(f"row-level security (forced): {len(done['entity_tables'])} entity tables")
    click.echo("the app must connect as the app role; migrations run as the owner")
