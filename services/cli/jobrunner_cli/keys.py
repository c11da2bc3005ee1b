"""`jobrunner keys list | create NAME | revoke KEY`: API keys for workers and AMQP submitters."""

from typing import Annotated

import typer

from . import completion, output
from .common import JsonOption, KeyKind, api, find_one

app = typer.Typer(help="API keys of your tenant, for workers and AMQP submitters: list, create, "
                       "revoke.", no_args_is_help=True)


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the live keys (never the keys themselves: only their prefixes)."""
    with api(ctx) as client:
        keys = client.get("/api-keys")
    if as_json:
        output.print_json(keys)
        return
    output.table(["NAME", "KIND", "PREFIX", "CREATED", "LAST USED", "ID"], [
        [k.get("name"), k.get("kind"), k.get("prefix"), output.when(k.get("created_at")),
         output.when(k.get("last_used_at")), k.get("id")] for k in keys
    ])


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key, e.g. the worker host.")],
    kind: Annotated[KeyKind, typer.Option(
        "--kind", help="worker: a worker connects with it; submit: jobs over AMQP.",
    )] = KeyKind.worker,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it: it is shown only this once."""
    with api(ctx) as client:
        created = client.call("POST", "/api-keys", json={"name": name, "kind": kind.value})
    if as_json:
        output.print_json(created)
        return
    print(created["key"])
    if output.is_terminal():
        output.note(f"jobrunner: {kind.value} key {name!r} created; it is shown only now")


@app.command()
def revoke(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(
        metavar="KEY", help="The key's name or id.", autocompletion=completion.keys)],
) -> None:
    """Revoke a key; workers connected with it are cut off within seconds."""
    with api(ctx) as client:
        found = find_one(client.get("/api-keys"), key, "key", "jobrunner keys list")
        client.call("DELETE", f"/api-keys/{found['id']}")
    print(f"revoked key {found.get('name')} ({found['id']})")
