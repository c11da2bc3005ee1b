"""`jobrunner audit`: the tenant's audit log, newest first (tenant admins, SPEC §3)."""

import shlex
from typing import Annotated

import typer

from . import output
from .common import CursorOption, JsonOption, LimitOption, api, more_note


def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(
        "--action", metavar="ACTION",
        help="Only this action, e.g. login.failed, api_key.create, user.update, "
             "schedule.trigger, job.cancel.")] = None,
    actor: Annotated[str | None, typer.Option(
        "--actor", metavar="USER", help="Only what this user did (their username).")] = None,
    limit: LimitOption = None,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log of your tenant, newest first: who did what, when, from where."""
    with api(ctx) as client:
        page = client.get("/audit", action=action, actor=actor, limit=limit, cursor=cursor)
    if as_json:
        output.print_json(page)
        return
    output.table(["AT", "ACTOR", "ACTION", "TARGET", "ADDRESS"], [
        [output.when(e.get("at")), e.get("actor"), e.get("action"), e.get("target"),
         e.get("address")] for e in page.get("items", [])
    ])
    filters = [f"{flag} {shlex.quote(value)}" for flag, value in
               (("--action", action), ("--actor", actor), ("--limit", limit and str(limit)))
               if value]
    more_note(page, "entries", " ".join(["jobrunner audit", *filters]))
