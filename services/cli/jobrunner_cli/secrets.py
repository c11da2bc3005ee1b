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
    if sys.stdin is not None and sys.stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        if confirm and getpass.getpass(f"{label} (again): ") != value:
            raise UsageProblem("the two entries differ")
        return value
    value = sys.stdin.read() if sys.stdin is not None else ""
    # `echo "$TOKEN" | jobrunner secrets set NAME` must store the token, not token + newline.
    return value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")


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
