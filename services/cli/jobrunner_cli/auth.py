"""`jobrunner login`, `logout`, `profiles`, `whoami` and `password`: logins kept per profile."""

import getpass
import os
import sys
from typing import Annotated

import typer

from . import config, output
from .client import Api, detail_of, retry_after
from .common import JsonOption, State, api
from .errors import AuthProblem, CliError, UsageProblem
from .secrets import is_terminal_input, read_password


def profile_of(ctx: typer.Context) -> str:
    state = ctx.obj if isinstance(ctx.obj, State) else State()
    return config.profile_name(state.profile)


def login(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option(
        "--username", "-u", metavar="USER", help="Default: asked.")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", "-p", metavar="PASSWORD",
        help="Default: asked (hidden), or read from standard input.",
        show_default=False)] = None,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", metavar="URL",
        help="The API, e.g. https://jobs.example.com (default: JOBRUNNER_API_URL, else the "
             f"profile's, else {config.DEFAULT_API_URL}).")] = None,
) -> None:
    """Log in and keep the token in the config file (mode 0600), under the profile."""
    name = profile_of(ctx)
    saved = config.saved_profile(name)
    url = config.normalize_url(
        api_url or os.environ.get("JOBRUNNER_API_URL") or saved.get("api_url")
        or config.DEFAULT_API_URL
    )
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if username is None:
        username = typer.prompt("Username", default=saved.get("username")) if interactive else \
            (sys.stdin.readline().rstrip("\r\n") if sys.stdin else "")
    if password is None:
        password = getpass.getpass("Password: ") if interactive else \
            (sys.stdin.readline().rstrip("\r\n") if sys.stdin else "")
    if not username:
        raise AuthProblem("login failed: no username (pass --username)")
    with Api(config.Target(name, url, None)) as client, client.translated():
        response = client.http.post("/auth/token", data={"username": username,
                                                         "password": password})
    if response.status_code == 429:  # throttled: the password was not even checked
        hint = retry_after(response)
        raise AuthProblem(f"login failed: {detail_of(response)}" + (f" ({hint})" if hint else ""))
    if response.status_code in (400, 401, 422):
        raise AuthProblem(f"login failed: {detail_of(response)}")
    client.check(response)
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise CliError(f"{url} answered the login without a token: is it a jobrunner API?")
    path = config.store_login(name, url, token, username)
    print(f"logged in to {url} as {username} (profile {name}, saved in {path})")
    if os.environ.get("JOBRUNNER_TOKEN"):
        output.note("jobrunner: JOBRUNNER_TOKEN is set and wins over the saved token")


def logout(ctx: typer.Context) -> None:
    """Forget the profile's token (its API URL and user name stay)."""
    name = profile_of(ctx)
    cfg = config.load()
    profile = cfg["profiles"].get(name)
    if not profile or not profile.pop("token", None):
        print(f"profile {name} was not logged in")
        return
    config.save(cfg)
    print(f"logged out of profile {name}")


def profiles(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The profiles in the config file, and which one this command would use."""
    active = profile_of(ctx)
    rows = [{"name": name, "api_url": p.get("api_url"), "username": p.get("username"),
             "logged_in": bool(p.get("token")), "active": name == active}
            for name, p in sorted(config.load()["profiles"].items())]
    if as_json:
        output.print_json(rows)
        return
    output.table(["PROFILE", "API", "USER", "LOGGED IN", "IN USE"], [
        [r["name"], r["api_url"], r["username"], "yes" if r["logged_in"] else "no",
         "yes" if r["active"] else None] for r in rows
    ])


def whoami(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Who the token is: username, role and tenant."""
    with api(ctx) as client:
        me = client.get("/me")
    if as_json:
        output.print_json(me)
        return
    tenant = me.get("tenant") or {}
    output.fields([
        ("username", me.get("username")),
        ("role", me.get("role")),
        ("tenant", tenant.get("name")),
        ("platform admin", "yes" if me.get("platform_admin") else "no"),
        ("api", client.target.api_url),
        ("profile", client.target.profile),
    ])


def passwords_from_stdin() -> tuple[str, str]:
    lines = sys.stdin.read().splitlines() if sys.stdin is not None else []
    if len(lines) < 2 or not lines[0] or not lines[1]:
        raise UsageProblem("--password-stdin wants two lines: the current password, then the "
                           "new one")
    return lines[0], lines[1]


def password(
    ctx: typer.Context,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin",
        help="Read two lines from standard input, the current password then the new one, "
             "instead of asking.")] = False,
) -> None:
    """Change your own password (asked: the current one, then the new one twice). The new
    token is saved in the profile, as `jobrunner login` saves one; your other logins end."""
    name = profile_of(ctx)
    if password_stdin:
        current, new = passwords_from_stdin()
    elif is_terminal_input():
        current = getpass.getpass("Current password: ")
        new = read_password("New password", False)
    else:
        raise UsageProblem("no terminal to ask the passwords on: pass --password-stdin and "
                           "them on standard input (the current one, then the new one)")
    with api(ctx) as client:
        client.require_token()
        username = config.saved_profile(name).get("username") or client.get("/me")["username"]
        with client.translated():
            response = client.http.post("/auth/password", json={"current_password": current,
                                                                "new_password": new})
        if response.status_code == 403:  # the current password is wrong: as a failed login
            raise AuthProblem(f"password not changed: {detail_of(response)}")
        if response.status_code == 422:  # the policy (length, the username in it)
            raise CliError(f"password not changed: {detail_of(response)}")
        client.check(response)
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            raise CliError("the API answered the password change without a token: log in "
                           "again with the new password") from None
    path = config.store_login(name, client.target.api_url, token, username)
    print(f"password of {username} changed; the new token is saved (profile {name}, in {path}); "
          "your other logins end")
    if os.environ.get("JOBRUNNER_TOKEN"):
        output.note("jobrunner: JOBRUNNER_TOKEN is set, and its token no longer works: unset it "
                    "to use the saved one")
