"""`jobrunner users list | show | create | set-role | set-password | delete` (tenant admins)."""

from typing import Annotated, Any

import typer

from . import completion, output
from .client import Api
from .common import JsonOption, Role, api, find_one
from .secrets import read_password

app = typer.Typer(help="The users of your tenant and their roles (viewer, member, admin): list, "
                       "show, create, set-role, set-password, delete.", no_args_is_help=True)

LISTING = "jobrunner users list"
UserRef = Annotated[str, typer.Argument(
    metavar="USER", help="The user's username or id.", autocompletion=completion.users)]
PasswordStdinOption = Annotated[bool, typer.Option(
    "--password-stdin",
    help="Read the password from standard input (without its final line break) instead of "
         "asking for it.")]


def resolve(client: Api, ref: str) -> dict[str, Any]:
    return find_one(client.get("/users"), ref, "user", LISTING, field="username")


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the users by username, with their roles."""
    with api(ctx) as client:
        found = client.get("/users")
    if as_json:
        output.print_json(found)
        return
    output.table(["USERNAME", "ROLE", "CREATED", "ID"], [
        [u.get("username"), u.get("role"), output.when(u.get("created_at")), u.get("id")]
        for u in found
    ])


@app.command()
def show(ctx: typer.Context, user: UserRef, as_json: JsonOption = False) -> None:
    """One user."""
    with api(ctx) as client:
        found = resolve(client, user)
    if as_json:
        output.print_json(found)
        return
    output.fields([("id", found.get("id")), ("username", found.get("username")),
                   ("role", found.get("role")), ("created", output.when(found.get("created_at")))])


@app.command()
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME",
                                            help="Their login (unique on the platform).")],
    role: Annotated[Role, typer.Option(
        "--role", help="viewer: reads; member: also submits, cancels, reruns; admin: also "
                       "manages keys, secrets, schedules, users.")] = Role.member,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a user to your tenant; their password is asked (hidden, twice) unless
    --password-stdin."""
    password = read_password(f"Password of {username}", password_stdin)
    with api(ctx) as client:
        created = client.call("POST", "/users", json={"username": username, "password": password,
                                                      "role": role.value})
    if as_json:
        output.print_json(created)
    else:
        print(f"created user {created.get('username')} ({created.get('role')}, "
              f"{created.get('id')})")


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    user: UserRef,
    role: Annotated[Role, typer.Argument(metavar="ROLE", help="viewer, member or admin.")],
    as_json: JsonOption = False,
) -> None:
    """Give a user another role (the tenant's last admin stays an admin)."""
    with api(ctx) as client:
        found = resolve(client, user)
        changed = client.call("PATCH", f"/users/{found['id']}", json={"role": role.value})
    if as_json:
        output.print_json(changed)
    else:
        print(f"user {changed.get('username')} is now {changed.get('role')} "
              f"(was {found.get('role')})")


@app.command("set-password")
def set_password(ctx: typer.Context, user: UserRef,
                 password_stdin: PasswordStdinOption = False) -> None:
    """Set a new password for a user (asked, hidden, twice): their logins end. Your own:
    `jobrunner password`."""
    password = read_password(f"New password of {user}", password_stdin)
    with api(ctx) as client:
        found = resolve(client, user)
        client.call("PATCH", f"/users/{found['id']}", json={"password": password})
    print(f"password of {found.get('username')} set; their tokens no longer work")


@app.command()
def delete(ctx: typer.Context, user: UserRef) -> None:
    """Delete a user: their tokens are refused from then on."""
    with api(ctx) as client:
        found = resolve(client, user)
        client.call("DELETE", f"/users/{found['id']}")
    print(f"deleted user {found.get('username')} ({found['id']})")
