"""`jobrunner logs [-f] ID`: a job's output, stdout lines on stdout and stderr lines on stderr."""

from typing import Annotated

import typer

from . import completion, output
from .common import api
from .errors import UsageProblem
from .follow import follow

PAGE = 1000


def logs(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(
        metavar="ID", help="The job's id.", autocompletion=completion.jobs)],
    follow_: Annotated[bool, typer.Option(
        "--follow", "-f", help="Go on printing lines as they come until the job ends.")] = False,
    attempt: Annotated[int | None, typer.Option(
        "--attempt", metavar="N", min=1,
        help="The output of this attempt (default: the latest).")] = None,
) -> None:
    """Print a job's output (what it has so far; with -f, until it ends)."""
    if follow_ and attempt is not None:
        raise UsageProblem("--follow shows the latest attempt: leave out --attempt")
    with api(ctx) as client:
        if follow_:
            follow(client, job_id)
            return
        after = 0
        while True:
            page = client.get(f"/jobs/{job_id}/logs", after=after, limit=PAGE, attempt=attempt)
            lines = page.get("lines") or []
            if not lines:
                return
            output.print_lines(lines)
            after = page.get("next") or lines[-1]["seq"]
