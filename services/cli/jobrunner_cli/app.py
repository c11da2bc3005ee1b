"""`jobrunner`: the command line of SPEC §7, a client of the REST API (SPEC §3).

Every failure is one line on stderr, `jobrunner: <reason>`, with the exit codes of errors.py;
never a traceback (JOBRUNNER_DEBUG=1 shows one for an unexpected error).
"""

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import (audit, auth, jobs, keys, logs, schedules, secrets, submit, tenants, users,
               workers)
from .client import package_version
from .common import State
from .errors import FAILED, INTERRUPTED, USAGE, CliError

app = typer.Typer(
    name="jobrunner",
    help="The command line of a jobrunner platform: submit jobs, follow their output, manage "
         "workers, keys, secrets, schedules, users and tenants, read the audit log.\n\n"
         "The API and token: JOBRUNNER_API_URL and JOBRUNNER_TOKEN, else what `jobrunner login` "
         "saved for the profile (--profile, else JOBRUNNER_PROFILE, else `default`).",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: Typer's Rich panels show flags as "<bool>"
)


def show_version(value: bool) -> None:
    if value:
        print(f"jobrunner {package_version()}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    profile: Annotated[str | None, typer.Option(
        "--profile", metavar="NAME",
        help="The login to use (default: JOBRUNNER_PROFILE, else `default`).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    ctx.obj = State(profile=profile)
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(USAGE)


app.command(context_settings={"allow_interspersed_args": False})(submit.submit)
app.command("logs")(logs.logs)
app.add_typer(jobs.app, name="jobs")
app.add_typer(workers.app, name="workers")
app.add_typer(keys.app, name="keys")
app.add_typer(secrets.app, name="secrets")
app.add_typer(tenants.app, name="tenants")
app.add_typer(schedules.app, name="schedules")
app.add_typer(users.app, name="users")
app.command("audit")(audit.audit)
app.command()(auth.login)
app.command()(auth.logout)
app.command()(auth.profiles)
app.command()(auth.whoami)
app.command()(auth.password)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def worker(ctx: typer.Context) -> None:
    """Run a worker on this host: the same as `jobrunner-worker` (from the worker package)."""
    beside = Path(sys.argv[0]).resolve().parent / "jobrunner-worker"
    found = str(beside) if beside.is_file() else shutil.which("jobrunner-worker")
    if not found:
        raise CliError("`jobrunner worker` runs jobrunner-worker, which is not installed here "
                       "(pip install ./shared ./services/worker)")
    os.execv(found, [found, *ctx.args])


def usage_message(exc: typer.TyperException) -> str:
    message = " ".join(exc.format_message().replace("Value error, ", "").split())
    context = getattr(exc, "ctx", None)
    if context is not None:
        message += f" (see `{context.command_path} --help`)"
    return message


def main(argv: list[str] | None = None) -> int:
    try:
        result = app(args=argv, prog_name="jobrunner", standalone_mode=False)
    except CliError as exc:
        print(f"jobrunner: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except typer.TyperException as exc:  # Typer's (Click's) usage errors
        if type(exc).__name__ == "NoArgsIsHelpError":  # `jobrunner keys`: its help
            context = getattr(exc, "ctx", None)
            print(context.get_help() if context is not None else exc.format_message())
            return USAGE
        print(f"jobrunner: {usage_message(exc)}", file=sys.stderr)
        return getattr(exc, "exit_code", USAGE)
    except typer.Abort:
        print("jobrunner: aborted", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # `jobrunner logs ID | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return FAILED
    except Exception as exc:  # noqa: BLE001 - a bug: one line, unless asked for more
        if os.environ.get("JOBRUNNER_DEBUG"):
            raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"jobrunner: unexpected error: {reason} (JOBRUNNER_DEBUG=1 shows where)",
              file=sys.stderr)
        return FAILED
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
