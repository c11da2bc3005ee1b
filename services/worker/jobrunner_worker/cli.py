"""`jobrunner`: the command line client of the REST API (SPEC §3), plus `jobrunner worker`.

API URL: JOBRUNNER_API_URL, else what `login` saved, else http://localhost:8000.
Token: JOBRUNNER_TOKEN, else what `login` saved in $XDG_CONFIG_HOME/jobrunner/config.json.
"""

import argparse
import getpass
import json
import os
import shlex
import sys
import time
from datetime import datetime
from typing import Any

import httpx

from .cliconfig import load_config, save_config
from .sse import parse_events

DEFAULT_API_URL = "http://localhost:8000"
FOLLOW_RETRIES = 10  # consecutive failures of the log stream before giving up


class CliError(Exception):
    """Printed as `jobrunner: <message>`, exit status 1."""


# --- configuration ------------------------------------------------------------------------------


def api_url(override: str | None = None) -> str:
    url = override or os.environ.get("JOBRUNNER_API_URL") or load_config().get("api_url")
    return (url or DEFAULT_API_URL).rstrip("/")


def client(url: str | None = None) -> httpx.Client:
    token = os.environ.get("JOBRUNNER_TOKEN") or load_config().get("token")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=api_url(url), headers=headers, timeout=30)


def check(response: httpx.Response) -> Any:
    if response.status_code == 401:
        raise CliError("not logged in or token expired: run `jobrunner login`")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except (ValueError, AttributeError):
            detail = response.text or response.reason_phrase
        if not isinstance(detail, str):
            detail = json.dumps(detail)
        raise CliError(f"{response.status_code}: {detail}")
    return response.json() if response.content else None


# --- output -----------------------------------------------------------------------------------------


def print_lines(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        out = sys.stderr if line.get("stream") == "stderr" else sys.stdout
        print(line.get("text", ""), file=out)
    sys.stdout.flush()
    sys.stderr.flush()


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    for row in [headers, *cells]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def when(value: str | None) -> str:
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


def short(text: str, width: int = 50) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- commands -------------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    url = api_url(args.api_url)
    username = args.username or input("Username: ")
    password = args.password if args.password is not None else getpass.getpass("Password: ")
    with httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("/api/v1/auth/token", data={"username": username, "password": password})
    if response.status_code in (400, 401):
        detail = check_detail(response)
        raise CliError(f"login failed: {detail}")
    token = check(response)["access_token"]
    config = load_config()
    config.update(api_url=url, token=token)
    path = save_config(config)
    print(f"logged in to {url} as {username} (token saved in {path})")
    return 0


def check_detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))
    except (ValueError, AttributeError):
        return response.text


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--env wants NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def cmd_submit(args: argparse.Namespace) -> int:
    words = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not words:
        raise CliError("nothing to run: jobrunner submit [options] -- COMMAND...")
    body: dict[str, Any] = {"argv": words} if args.argv else {
        "command": words[0] if len(words) == 1 else shlex.join(words)
    }
    if args.name:
        body["name"] = args.name
    if args.label:
        body["labels"] = args.label
    if args.env:
        body["env"] = parse_env(args.env)
    if args.secret:
        body["secrets"] = args.secret
    for key, value in (("timeout_seconds", args.timeout), ("max_retries", args.retries), ("priority", args.priority)):
        if value is not None:
            body[key] = value
    with client() as http:
        job = check(http.post("/api/v1/jobs", json=body))
        if not args.wait:
            print(job["id"])
            return 0
        print(job["id"], file=sys.stderr)
        end = follow(http, job["id"])
    if end.get("exit_code") is not None:
        return int(end["exit_code"])
    return 0 if end.get("status") == "succeeded" else 1


def follow(http: httpx.Client, job_id: str) -> dict[str, Any]:
    """Print the job's log as it comes; return the `end` event. Resumes a dropped stream."""
    last_id: str | None = None
    failures = 0
    while True:
        params = {"after": last_id} if last_id else {}
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with http.stream(
                "GET", f"/api/v1/jobs/{job_id}/logs/stream", params=params, headers=headers,
                timeout=httpx.Timeout(30, read=None),
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    check(response)
                for event in parse_events(response.iter_lines()):
                    failures = 0
                    if event.event == "end":
                        return json.loads(event.data)
                    if event.event == "log":
                        print_lines(json.loads(event.data).get("lines", []))
                        if event.id:
                            last_id = event.id
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.ConnectError) and last_id is None and failures == 0:
                raise
            reason = repr(exc)
        else:
            reason = "stream ended without an end event"
        failures += 1
        if failures > FOLLOW_RETRIES:
            raise CliError(f"lost the log stream of job {job_id}: {reason}")
        time.sleep(min(5.0, 0.2 * 2**failures))


def cmd_logs(args: argparse.Namespace) -> int:
    with client() as http:
        if args.follow:
            follow(http, args.job_id)
            return 0
        after = 0
        while True:
            page = check(http.get(f"/api/v1/jobs/{args.job_id}/logs", params={"after": after, "limit": 1000}))
            lines = page.get("lines") or []
            if not lines:
                return 0
            print_lines(lines)
            after = page.get("next") or lines[-1]["seq"]


def cmd_jobs(args: argparse.Namespace) -> int:
    given = (("status", args.status), ("label", args.label), ("worker", args.worker),
             ("q", args.search), ("limit", args.limit))
    params = {k: v for k, v in given if v}
    with client() as http:
        page = check(http.get("/api/v1/jobs", params=params))
    rows = []
    for job in page.get("items", []):
        what = job.get("name") or job.get("command") or shlex.join(job.get("argv") or [])
        exit_code = job.get("exit_code")
        rows.append([job.get("id"), job.get("status"), "-" if exit_code is None else exit_code,
                     job.get("worker") or "-", when(job.get("created_at")), short(what)])
    print_table(["ID", "STATUS", "EXIT", "WORKER", "CREATED", "COMMAND"], rows)
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    with client() as http:
        workers = check(http.get("/api/v1/workers"))
    rows = []
    for w in workers:
        running = w.get("running")
        running = len(running) if isinstance(running, list) else (running or 0)
        rows.append([w.get("id"), w.get("name"), w.get("status"), f"{running}/{w.get('capacity')}",
                     ",".join(w.get("labels") or []) or "-", when(w.get("last_heartbeat")),
                     w.get("version") or "-", w.get("hostname") or "-"])
    print_table(["ID", "NAME", "STATUS", "RUNNING", "LABELS", "LAST HEARTBEAT", "VERSION", "HOST"], rows)
    return 0


def read_secret_value(args: argparse.Namespace) -> str:
    """--value, else a hidden prompt on a terminal, else stdin without its final line break."""
    if args.value is not None:
        return args.value
    if sys.stdin.isatty():
        return getpass.getpass(f"Value of {args.name}: ")
    value = sys.stdin.read()
    # `echo "$TOKEN" | jobrunner secrets set NAME` must store the token, not token + newline.
    return value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")


def cmd_secrets_set(args: argparse.Namespace) -> int:
    value = read_secret_value(args)
    if not value:
        raise CliError("empty value: pass --value, or the value on standard input")
    with client() as http:
        response = http.put(f"/api/v1/secrets/{args.name}", json={"value": value})
        secret = check(response)
    print(f"{'created' if response.status_code == 201 else 'replaced'} secret {secret['name']}")
    return 0


def cmd_secrets_list(args: argparse.Namespace) -> int:
    with client() as http:
        found = check(http.get("/api/v1/secrets"))
    rows = [[s.get("name"), when(s.get("created_at")), when(s.get("updated_at"))] for s in found]
    print_table(["NAME", "CREATED", "UPDATED"], rows)
    return 0


def cmd_secrets_delete(args: argparse.Namespace) -> int:
    with client() as http:
        check(http.delete(f"/api/v1/secrets/{args.name}"))
    print(f"deleted secret {args.name}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .main import main as worker_main

    return worker_main()


# --- parser -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobrunner", description="jobrunner command line client")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = sub.add_parser("login", help="log in and save the token")
    login.add_argument("--username", "-u")
    login.add_argument("--password", "-p")
    login.add_argument("--api-url", help=f"API base URL (default {DEFAULT_API_URL})")
    login.set_defaults(func=cmd_login)

    submit = sub.add_parser("submit", help="submit a job: jobrunner submit [options] -- CMD...")
    submit.add_argument("--name")
    submit.add_argument("--label", action="append", default=[], help="required worker label (repeatable)")
    submit.add_argument("--env", action="append", default=[], metavar="K=V", help="environment (repeatable)")
    submit.add_argument("--secret", action="append", default=[], metavar="NAME",
                        help="a secret of the tenant, as environment variable NAME (repeatable)")
    submit.add_argument("--timeout", type=int, metavar="SECONDS")
    submit.add_argument("--retries", type=int)
    submit.add_argument("--priority", type=int)
    submit.add_argument("--argv", action="store_true", help="run without a shell")
    submit.add_argument("--wait", action="store_true", help="follow the output, exit with the job's code")
    submit.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")
    submit.set_defaults(func=cmd_submit)

    logs = sub.add_parser("logs", help="print a job's output")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("job_id")
    logs.set_defaults(func=cmd_logs)

    jobs = sub.add_parser("jobs", help="list jobs, newest first")
    jobs.add_argument("--status")
    jobs.add_argument("--label")
    jobs.add_argument("--worker", help="worker name or id")
    jobs.add_argument("--search", metavar="TEXT", help="text in the name, command or argv (any case)")
    jobs.add_argument("--limit", type=int)
    jobs.set_defaults(func=cmd_jobs)

    sub.add_parser("workers", help="list workers").set_defaults(func=cmd_workers)

    secrets = sub.add_parser("secrets", help="the tenant's secrets: set, list, delete")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    secret_set = secrets_sub.add_parser(
        "set", help="create or replace a secret; the value from --value, else standard input "
        "(without its final line break), else a hidden prompt"
    )
    secret_set.add_argument("name", metavar="NAME")
    secret_set.add_argument("--value", help="the value (visible in your shell history: prefer stdin)")
    secret_set.set_defaults(func=cmd_secrets_set)
    secrets_sub.add_parser("list", help="names and dates, never values").set_defaults(
        func=cmd_secrets_list
    )
    secret_delete = secrets_sub.add_parser("delete", help="delete a secret")
    secret_delete.add_argument("name", metavar="NAME")
    secret_delete.set_defaults(func=cmd_secrets_delete)
    sub.add_parser("worker", help="run a worker (same as jobrunner-worker)").set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"jobrunner: {exc}", file=sys.stderr)
    except httpx.ConnectError as exc:
        try:
            url = exc.request.url.copy_with(path="/", query=None)
        except RuntimeError:
            url = api_url()
        print(f"jobrunner: cannot connect to the API at {url}: is it running? "
              "(set JOBRUNNER_API_URL or log in with --api-url)", file=sys.stderr)
    except httpx.HTTPError as exc:
        print(f"jobrunner: request failed: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
