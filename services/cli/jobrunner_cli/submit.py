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


# The job's options, shared with `jobrunner schedules create|update` (schedules.py).
CmdArgument = Annotated[list[str], typer.Argument(
    metavar="CMD",
    help="The command: one word is run as it is by /bin/sh -c, several are quoted and "
         "joined (or given as argv with --argv).",
    show_default=False,
)]
LabelsOption = Annotated[list[str] | None, typer.Option(
    "--label", metavar="LABEL", help="Only a worker with this label runs it (repeatable).")]
EnvOption = Annotated[list[str] | None, typer.Option(
    "--env", metavar="K=V", help="An environment variable of the job (repeatable).")]
SecretsOption = Annotated[list[str] | None, typer.Option(
    "--secret", metavar="NAME",
    help="A secret of the tenant, as the environment variable NAME (repeatable).")]
TimeoutOption = Annotated[int | None, typer.Option(
    "--timeout", metavar="SECONDS", min=1, help="Stop it after this long (timed_out).")]
RetriesOption = Annotated[int | None, typer.Option(
    "--retries", metavar="N", min=0, help="Run it again this many times at most if it fails.")]
PriorityOption = Annotated[int | None, typer.Option(
    "--priority", metavar="N", min=0, help="Higher runs first (0-9).")]
ArgvOption = Annotated[bool, typer.Option(
    "--argv", help="Run CMD... as an argument list, without a shell.")]


def command_body(cmd: list[str], argv: bool, usage: str) -> dict[str, Any]:
    """`{"command": ...}` or `{"argv": [...]}` from the words after the options."""
    words = cmd[1:] if cmd[:1] == ["--"] else cmd
    if not words:
        raise UsageProblem(f"nothing to run: {usage}")
    return {"argv": words} if argv else {
        "command": words[0] if len(words) == 1 else shlex.join(words)
    }


def job_options(*, name: str | None = None, labels: list[str] | None = None,
                env: list[str] | None = None, secrets: list[str] | None = None,
                timeout: int | None = None, retries: int | None = None,
                priority: int | None = None) -> dict[str, Any]:
    """The job fields of the options given (those left out: not in the body, the API's)."""
    optional = {
        "name": name, "labels": labels or None, "env": parse_env(env) if env else None,
        "secrets": secrets or None, "timeout_seconds": timeout, "max_retries": retries,
        "priority": priority,
    }
    return {key: value for key, value in optional.items() if value is not None}


def submit(
    ctx: typer.Context,
    cmd: CmdArgument,
    wait: WaitOption = False,
    name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="A name to find it by.")] = None,
    label: LabelsOption = None,
    env: EnvOption = None,
    secret: SecretsOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    priority: PriorityOption = None,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", metavar="KEY",
        help="A repeat with the same key returns the first job instead of a new one.")] = None,
    argv: ArgvOption = False,
    as_json: JsonOption = False,
) -> None:
    """Submit a job; prints its id (with --wait: its output, and exits with its exit code)."""
    body = command_body(cmd, argv, "jobrunner submit [OPTIONS] -- CMD...")
    body.update(job_options(name=name, labels=label, env=env, secrets=secret, timeout=timeout,
                            retries=retries, priority=priority))
    if idempotency_key is not None:
        body["idempotency_key"] = idempotency_key
    with api(ctx) as client:
        job = client.call("POST", "/jobs", json=body)
        finish(client, job, wait=wait, as_json=as_json)
