"""`jobrunner tenants list | create NAME` (the platform admin only)."""

from typing import Annotated

import typer

from . import output
from .common import JsonOption, api
from .errors import UsageProblem
from .secrets import read_value

app = typer.Typer(help="Tenants of the platform (platform admin only): list, create.",
                  no_args_is_help=True)


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every tenant, by name."""
    with api(ctx) as client:
        tenants = client.get("/tenants")
    if as_json:
        output.print_json(tenants)
        return
    output.table(["NAME", "CREATED", "ID"], [
        [t.get("name"), output.when(t.get("created_at")), t.get("id")] for t in tenants
    ])


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant's name.")],
    admin_username: Annotated[str, typer.Option(
        "--admin-username", metavar="USER", help="The tenant's first admin user.")],
    admin_password: Annotated[str | None, typer.Option(
        "--admin-password", metavar="PASSWORD",
        help="Their password (at least 8 characters); else standard input, else a hidden prompt.",
        show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant with its first admin user."""
    password = read_value(f"Password of {admin_username}", admin_password, confirm=True)
    if not password:
        raise UsageProblem("empty password: pass --admin-password, or it on standard input")
    with api(ctx) as client:
        tenant = client.call("POST", "/tenants", json={
            "name": name, "admin_username": admin_username, "admin_password": password,
        })
    if as_json:
        output.print_json(tenant)
    else:
        print(f"created tenant {tenant.get('name', name)} ({tenant.get('id')}); its admin logs in "
              f"as {admin_username}")
