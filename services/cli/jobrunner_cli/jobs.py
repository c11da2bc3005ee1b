"""`jobrunner jobs [list] | show | cancel | rerun`."""

import shlex
from typing import Annotated, Any

import typer

from . import completion, output
from .common import JobStatus, JsonOption, api
from .submit import WaitOption, finish

app = typer.Typer(help="The jobs of your tenant, newest first: list (the default), show, cancel, "
                       "rerun.")

StatusOption = Annotated[
    JobStatus | None, typer.Option("--status", metavar="STATUS", help="Only jobs in this status.")
]
LabelOption = Annotated[
    str | None, typer.Option("--label", metavar="LABEL", help="Only jobs that need this label.")
]
WorkerOption = Annotated[
    str | None,
    typer.Option("--worker", metavar="WORKER", help="Only jobs run on this worker (its name or id)."),
]
SearchOption = Annotated[
    str | None,
    typer.Option("--search", metavar="TEXT", help="Text in the name, command or argv (any case)."),
]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", metavar="N", min=1, max=500, help="At most this many (API default 50)."),
]
JobId = Annotated[str, typer.Argument(
    metavar="ID", help="The job's id.", autocompletion=completion.jobs)]


def what(job: dict[str, Any]) -> str:
    return job.get("name") or job.get("command") or shlex.join(job.get("argv") or [])


def job_table(items: list[dict[str, Any]]) -> None:
    output.table(["ID", "STATUS", "EXIT", "WORKER", "CREATED", "COMMAND"], [
        [job.get("id"), output.status(job.get("status")), job.get("exit_code"),
         job.get("worker_name") or job.get("worker"), output.when(job.get("created_at")),
         output.short(what(job))]
        for job in items
    ])


def list_jobs(ctx: typer.Context, status: JobStatus | None, label: str | None,
              worker: str | None, search: str | None, limit: int | None, as_json: bool) -> None:
    with api(ctx) as client:
        page = client.get("/jobs", status=status.value if status else None, label=label,
                          worker=worker, q=search, limit=limit)
    if as_json:
        output.print_json(page)
        return
    job_table(page.get("items", []))
    if page.get("next_cursor") and output.is_terminal():
        output.note("jobrunner: more jobs match; --limit shows up to 500")


@app.callback(invoke_without_command=True)
def jobs(ctx: typer.Context, status: StatusOption = None, label: LabelOption = None,
         worker: WorkerOption = None, search: SearchOption = None, limit: LimitOption = None,
         as_json: JsonOption = False) -> None:
    """The jobs of your tenant, newest first (`jobrunner jobs` = `jobrunner jobs list`)."""
    if ctx.invoked_subcommand is None:
        list_jobs(ctx, status, label, worker, search, limit, as_json)


@app.command("list")
def list_command(ctx: typer.Context, status: StatusOption = None, label: LabelOption = None,
                 worker: WorkerOption = None, search: SearchOption = None,
                 limit: LimitOption = None, as_json: JsonOption = False) -> None:
    """List jobs, newest first."""
    list_jobs(ctx, status, label, worker, search, limit, as_json)


@app.command()
def show(ctx: typer.Context, job_id: JobId, as_json: JsonOption = False) -> None:
    """One job: its command, state and attempts."""
    with api(ctx) as client:
        job = client.get(f"/jobs/{job_id}")
    if as_json:
        output.print_json(job)
        return
    env = job.get("env") or {}
    command = job.get("command")
    output.fields([
        ("id", job.get("id")),
        ("name", job.get("name")),
        ("status", output.status(job.get("status"))),
        ("command", command) if command is not None else
        ("argv", shlex.join(job.get("argv") or [])),
        ("labels", ", ".join(job.get("labels") or [])),
        ("env", ", ".join(f"{k}={v}" for k, v in env.items())),
        ("secrets", ", ".join(job.get("secrets") or [])),
        ("exit code", job.get("exit_code")),
        ("error", job.get("error")),
        ("worker", job.get("worker_name") or job.get("worker")),
        ("priority", job.get("priority")),
        ("timeout", f"{job['timeout_seconds']} s" if job.get("timeout_seconds") else None),
        ("retries", f"{max(0, len(job.get('attempts') or []) - 1)} of {job.get('max_retries', 0)}"),
        ("created", output.when(job.get("created_at"))),
        ("started", output.when(job.get("started_at"))),
        ("finished", output.when(job.get("finished_at"))),
        ("log lines", f"{job.get('log_lines', 0)}" + (" (truncated)" if job.get("log_truncated")
                                                       else "")),
        ("rerun of", job.get("rerun_of")),
    ])
    attempts = job.get("attempts") or []
    if attempts:
        output.console().print()
        output.table(["ATTEMPT", "STATUS", "EXIT", "WORKER", "STARTED", "FINISHED", "ERROR"], [
            [a.get("number"), output.status(a.get("status")), a.get("exit_code"),
             a.get("worker_name") or a.get("worker"), output.when(a.get("started_at")),
             output.when(a.get("finished_at")), a.get("error")]
            for a in attempts
        ])


@app.command()
def cancel(ctx: typer.Context, job_id: JobId, as_json: JsonOption = False) -> None:
    """Cancel a job: a queued one never starts, a running one is stopped."""
    with api(ctx) as client:
        job = client.call("POST", f"/jobs/{job_id}/cancel")
    if as_json:
        output.print_json(job)
    else:
        print(f"cancel requested for job {job.get('id', job_id)} (now {job.get('status')})")


@app.command()
def rerun(ctx: typer.Context, job_id: JobId, wait: WaitOption = False,
          as_json: JsonOption = False) -> None:
    """Run a job again as a new job; prints the new job's id."""
    with api(ctx) as client:
        job = client.call("POST", f"/jobs/{job_id}/rerun")
        finish(client, job, wait=wait, as_json=as_json)
