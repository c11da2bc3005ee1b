"""`jobrunner secrets set NAME | list | delete NAME`: values never shown again."""

import getpass
import sys
from typing import Annotated

import typer

from . import completion, output
from .common import JsonOption, api
from .errors import UsageProblem

app = typer.Typer(help="Secrets of your tenant, given to jobs as environment variables: set, "
                       "list, delete.", no_args_is_help=True)
SecretName = Annotated[str, typer.Argument(
    metavar="NAME", help="The secret's name.", autocompletion=completion.secrets)]


def read_value(label: str, given: str | None, *, confirm: bool = False) -> str:
    """`given`, else a hidden prompt on a terminal, else stdin without its final line break."""
    if given is not None:
        return given
    if is_terminal_input():
        value = getpass.getpass(f"{label}: ")
        if confirm and getpass.getpass(f"{label} (again): ") != value:
            raise UsageProblem("the two entries differ")
        return value
    return read_stdin()


def read_stdin() -> str:
    """Standard input, without its final line break."""
    value = sys.stdin.read() if sys.stdin is not None else ""
    # `echo "$TOKEN" | jobrunner secrets set NAME` must store the token, not token + newline.
    return value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")


def is_terminal_input() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def read_password(label: str, from_stdin: bool, *, confirm: bool = True) -> str:
    """A password: standard input with --password-stdin (without its final line break), else
    asked on the terminal, hidden (twice with `confirm`). Never empty."""
    if from_stdin:
        value = read_stdin()
    elif is_terminal_input():
        value = read_value(label, None, confirm=confirm)
    else:
        # getpass would read standard input anyway, after a warning: say what to do instead.
        raise UsageProblem("no terminal to ask the password on: pass --password-stdin and the "
                           "password on standard input")
    if not value:
        raise UsageProblem(f"empty password ({label})")
    return value


@app.command("set")
def set_command(
    ctx: typer.Context,
    name: SecretName,
    value: Annotated[str | None, typer.Option(
        "--value", help="The value (it stays in your shell history: prefer standard input).",
        show_default=False)] = None,
) -> None:
    """Create or replace a secret: the value from --value, else standard input (without its
    final line break), else a hidden prompt."""
    secret_value = read_value(f"Value of {name}", value)
    if not secret_value:
        raise UsageProblem("empty value: pass --value, or the value on standard input")
    with api(ctx) as client:
        response = client.request("PUT", f"/secrets/{name}", json={"value": secret_value})
    done = "created" if response.status_code == 201 else "replaced"
    print(f"{done} secret {response.json().get('name', name)}")


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the secrets: names and dates, never values."""
    with api(ctx) as client:
        found = client.get("/secrets")
    if as_json:
        output.print_json(found)
        return
    output.table(["NAME", "CREATED", "UPDATED"], [
        [s.get("name"), output.when(s.get("created_at")), output.when(s.get("updated_at"))]
        for s in found
    ])


@app.command()
def delete(ctx: typer.Context, name: SecretName) -> None:
    """Delete a secret (jobs already queued keep the value they were given)."""
    with api(ctx) as client:
        client.call("DELETE", f"/secrets/{name}")
    print(f"deleted secret {name}")
