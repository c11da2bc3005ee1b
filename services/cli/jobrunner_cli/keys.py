"""`jobrunner keys list | create NAME | revoke KEY`: API keys for workers and AMQP submitters."""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from . import completion, output
from .common import JsonOption, KeyKind, api, find_one
from .errors import UsageProblem

DURATION_RE = re.compile(r"^(\d+)\s*([mhdw])$")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expires(value: str, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now (90m, 12h, 30d, 2w) or an ISO date-time (without an
    offset: local time); it must be in the future."""
    now = now or datetime.now(UTC)
    text = value.strip()
    duration = DURATION_RE.match(text.lower())
    if duration:
        moment = now + timedelta(**{DURATION_UNITS[duration[2]]: int(duration[1])})
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageProblem(
                f"--expires {value!r}: give a duration (90m, 12h, 30d, 2w) or an ISO date-time "
                "(2027-01-31T18:00, 2027-01-31T18:00:00Z)") from None
        if moment.tzinfo is None:
            moment = moment.astimezone()  # the local time it reads as
    if moment <= now:
        raise UsageProblem(f"--expires {value!r} is not in the future")
    return moment.astimezone(UTC)


def expires_cell(key: dict[str, Any]) -> output.Text:
    if not key.get("expires_at"):
        return output.cell("never")
    if key.get("expired"):
        return output.cell(f"{output.when(key['expires_at'])} (expired)", "red")
    return output.cell(output.when(key["expires_at"]))

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
    output.table(["NAME", "KIND", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "ID"], [
        [k.get("name"), k.get("kind"), k.get("prefix"), output.when(k.get("created_at")),
         output.when(k.get("last_used_at")), expires_cell(k), k.get("id")] for k in keys
    ])


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key, e.g. the worker host.")],
    kind: Annotated[KeyKind, typer.Option(
        "--kind", help="worker: a worker connects with it; submit: jobs over AMQP.",
    )] = KeyKind.worker,
    expires: Annotated[str | None, typer.Option(
        "--expires", metavar="WHEN",
        help="Refuse it from then on: a duration from now (90m, 12h, 30d, 2w) or an ISO "
             "date-time (local time unless it has an offset). Default: never.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it: it is shown only this once."""
    body: dict[str, Any] = {"name": name, "kind": kind.value}
    if expires is not None:
        body["expires_at"] = parse_expires(expires).isoformat()
    with api(ctx) as client:
        created = client.call("POST", "/api-keys", json=body)
    if as_json:
        output.print_json(created)
        return
    print(created["key"])
    if output.is_terminal():
        until = f", valid until {output.when(created['expires_at'])}" \
            if created.get("expires_at") else ""
        output.note(f"jobrunner: {kind.value} key {name!r} created{until}; it is shown only now")


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
