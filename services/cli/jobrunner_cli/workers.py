"""`jobrunner workers [list] | drain WORKER`."""

from typing import Annotated, Any

import typer

from . import completion, output
from .common import JsonOption, api, find_one

app = typer.Typer(help="The workers of your tenant: list (the default), drain.")


def running_of(worker: dict[str, Any]) -> str:
    running = worker.get("running")
    count = len(running) if isinstance(running, list) else (running or 0)
    return f"{count}/{worker.get('capacity')}"


def list_workers(ctx: typer.Context, as_json: bool) -> None:
    with api(ctx) as client:
        workers = client.get("/workers")
    if as_json:
        output.print_json(workers)
        return
    output.table(
        ["NAME", "STATUS", "RUNNING", "LABELS", "LAST HEARTBEAT", "VERSION", "HOST", "ID"],
        [[w.get("name"), output.status(w.get("status")), running_of(w),
          ",".join(w.get("labels") or []), output.when(w.get("last_heartbeat")),
          w.get("version"), w.get("hostname"), w.get("id")] for w in workers],
    )


@app.callback(invoke_without_command=True)
def workers(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The workers of your tenant (`jobrunner workers` = `jobrunner workers list`)."""
    if ctx.invoked_subcommand is None:
        list_workers(ctx, as_json)


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List workers by name: status, running/capacity, labels, last heartbeat."""
    list_workers(ctx, as_json)


@app.command()
def drain(
    ctx: typer.Context,
    worker: Annotated[str, typer.Argument(
        metavar="WORKER", help="The worker's name or id.", autocompletion=completion.workers)],
    as_json: JsonOption = False,
) -> None:
    """Drain a worker: it finishes what it runs, takes nothing new, then exits."""
    with api(ctx) as client:
        found = find_one(client.get("/workers"), worker, "worker", "jobrunner workers")
        drained = client.call("POST", f"/workers/{found['id']}/drain")
    if as_json:
        output.print_json(drained)
    else:
        print(f"draining worker {found.get('name')} ({found['id']})")
