"""What every command module shares: the chosen profile, the API it names, common options."""

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import typer

from . import config
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


def find_one(items: list[dict[str, Any]], ref: str, what: str, listing: str) -> dict[str, Any]:
    """The item whose id is `ref`, else the one named `ref` (names are what tables show)."""
    for item in items:
        if item.get("id") == ref:
            return item
    named = [item for item in items if item.get("name") == ref]
    if len(named) == 1:
        return named[0]
    if named:
        raise UsageProblem(
            f"{len(named)} {what}s are named {ref!r}: give the id (`{listing} --json` shows them)"
        )
    raise CliError(f"no {what} with the id or name {ref!r} (`{listing}` lists them)")
