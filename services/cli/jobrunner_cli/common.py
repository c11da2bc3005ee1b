"""What every command module shares: the chosen profile, the API it names, common options."""

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import typer

from . import config, output
from .client import Api
from .errors import CliError, UsageProblem


@dataclass
class State:
    profile: str | None = None  # --profile; None: JOBRUNNER_PROFILE, else `default`


def api(ctx: typer.Context) -> Api:
    state = ctx.obj if isinstance(ctx.obj, State) else State()
    return Api(config.resolve(state.profile))


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer (pretty).")
]


class JobStatus(str, Enum):
    """The job statuses of SPEC §3 (tests/cli checks them against jobrunner-shared's)."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    timed_out = "timed_out"
    cancelled = "cancelled"


class KeyKind(str, Enum):
    worker = "worker"
    submit = "submit"


class Role(str, Enum):
    """A user's role in their tenant (SPEC §3): each may do what the one before it may."""

    viewer = "viewer"
    member = "member"
    admin = "admin"


LimitOption = Annotated[
    int | None,
    typer.Option("--limit", metavar="N", min=1, max=500,
                 help="At most this many (API default 50)."),
]


CursorOption = Annotated[
    str | None,
    typer.Option("--cursor", metavar="CURSOR",
                 help="Go on from a page that ended here (its next_cursor)."),
]


def find_one(items: list[dict[str, Any]], ref: str, what: str, listing: str,
             field: str = "name") -> dict[str, Any]:
    """The item whose id is `ref`, else the one whose `field` (its name) is `ref`: names are
    what tables show."""
    for item in items:
        if item.get("id") == ref:
            return item
    named = [item for item in items if item.get(field) == ref]
    if len(named) == 1:
        return named[0]
    if named:
        raise UsageProblem(
            f"{len(named)} {what}s are named {ref!r}: give the id (`{listing} --json` shows them)"
        )
    raise CliError(f"no {what} with the id or name {ref!r} (`{listing}` lists them)")


def more_note(page: dict[str, Any], what: str, command: str) -> None:
    """On a terminal, that the page is not all: how to see the next one."""
    cursor = page.get("next_cursor")
    if cursor and output.is_terminal():
        output.note(f"jobrunner: more {what}; the next ones: {command} --cursor {cursor}")
