"""`jobrunner submit [options] -- CMD...`, and what `--wait` returns (SPEC §7)."""

import shlex
import sys
from typing import Annotated, Any

import typer

from . import errors, output
from .client import Api
from .common import JsonOption, api
from .errors import UsageProblem
from .follow import follow

WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="Follow the job's output and exit with the job's exit code."),
]


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageProblem(f"--env wants NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def exit_code_of(client: Api, job_id: str, end: dict[str, Any]) -> int:
    """The job's own exit code; 124 timed out; 125 ended without one (errors.py)."""
    status, code = end.get("status"), end.get("exit_code")
    if status == "timed_out":
        output.note(f"jobrunner: job {job_id} timed out")
        return errors.JOB_TIMED_OUT
    if isinstance(code, int):
        return code if 0 <= code <= 255 else errors.FAILED
    if status == "succeeded":
        return errors.OK
    reason = status or "ended"
    try:
        error = client.get(f"/jobs/{job_id}").get("error")
    except errors.CliError:
        error = None
    output.note(f"jobrunner: job {job_id} {reason}" + (f": {error}" if error else ""))
    return errors.JOB_WITHOUT_EXIT_CODE


def finish(client: Api, job: dict[str, Any], *, wait: bool, as_json: bool) -> None:
    """After a submit or a rerun: print the job (its id, or JSON); with wait, follow it."""
    if not wait:
        if as_json:
            output.print_json(job)
        else:
            print(job["id"])
        return
    print(job["id"], file=sys.stderr)  # stdout is the job's own output
    end = follow(client, job["id"])
    raise typer.Exit(exit_code_of(client, job["id"], end))


def submit(
    ctx: typer.Context,
    cmd: Annotated[list[str], typer.Argument(
        metavar="CMD",
        help="The command: one word is run as it is by /bin/sh -c, several are quoted and "
             "joined (or given as argv with --argv).",
        show_default=False,
    )],
    wait: WaitOption = False,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="A name to find it by.")] = None,
    label: Annotated[list[str] | None, typer.Option(
        "--label", metavar="LABEL",
        help="Only a worker with this label runs it (repeatable).")] = None,
    env: Annotated[list[str] | None, typer.Option(
        "--env", metavar="K=V", help="An environment variable of the job (repeatable).")] = None,
    secret: Annotated[list[str] | None, typer.Option(
        "--secret", metavar="NAME",
        help="A secret of the tenant, as the environment variable NAME (repeatable).")] = None,
    timeout: Annotated[int | None, typer.Option(
        "--timeout", metavar="SECONDS", min=1, help="Stop it after this long (timed_out).")] = None,
    retries: Annotated[int | None, typer.Option(
        "--retries", metavar="N", min=0,
        help="Run it again this many times at most if it fails.")] = None,
    priority: Annotated[int | None, typer.Option(
        "--priority", metavar="N", min=0, help="Higher runs first (0-9).")] = None,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", metavar="KEY",
        help="A repeat with the same key returns the first job instead of a new one.")] = None,
    argv: Annotated[bool, typer.Option(
        "--argv", help="Run CMD... as an argument list, without a shell.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Submit a job; prints its id (with --wait: its output, and exits with its exit code)."""
    words = cmd[1:] if cmd[:1] == ["--"] else cmd
    if not words:
        raise UsageProblem("nothing to run: jobrunner submit [OPTIONS] -- CMD...")
    body: dict[str, Any] = {"argv": words} if argv else {
        "command": words[0] if len(words) == 1 else shlex.join(words)
    }
    optional = {
        "name": name, "labels": label or None, "env": parse_env(env) if env else None,
        "secrets": secret or None, "timeout_seconds": timeout, "max_retries": retries,
        "priority": priority, "idempotency_key": idempotency_key,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    with api(ctx) as client:
        job = client.call("POST", "/jobs", json=body)
        finish(client, job, wait=wait, as_json=as_json)
