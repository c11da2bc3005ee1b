"""Exit codes and the errors that carry them; each is printed as one line, `jobrunner: <reason>`.

| code | when |
| --- | --- |
| 0 | success |
| the job's own | `submit --wait`: the job's exit code (0-255) |
| 1 | the API refused the request (its `detail` is printed; a 403 names the role the action needs, a 429 the Retry-After seconds), or another failure |
| 2 | bad usage: an unknown option, a value the CLI rejects before asking the API |
| 3 | not logged in, the token expired or was refused, or a login failed (wrong password, or throttled: 429 with its Retry-After); `jobrunner password`: the current password is wrong |
| 4 | the API cannot be reached, did not answer in time, or a log stream was lost |
| 124 | `submit --wait`: the job timed out |
| 125 | `submit --wait`: the job ended without an exit code (cancelled, or failed by the platform: its worker lost, a secret missing) |
| 130 | interrupted (Ctrl-C) |
"""

OK = 0
FAILED = 1
USAGE = 2
AUTH = 3
UNREACHABLE = 4
JOB_TIMED_OUT = 124
JOB_WITHOUT_EXIT_CODE = 125
INTERRUPTED = 130


class CliError(Exception):
    """Printed as `jobrunner: <message>`; the process exits with `exit_code`."""

    exit_code = FAILED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        # One line, whatever the server put in its answer.
        return " ".join(str(self).split())


class UsageProblem(CliError):
    exit_code = USAGE


class AuthProblem(CliError):
    exit_code = AUTH


class Unreachable(CliError):
    exit_code = UNREACHABLE
