"""Shell completion of what only the API knows: worker, key, secret and schedule names, users,
recent job ids.

Best effort and quick: not logged in, the API down or slow (TIMEOUT_SECONDS), and there are
simply no suggestions. Typer's own completion (`--install-completion`) calls these.
"""

from typing import Any

import typer

from . import config
from .client import Api

TIMEOUT_SECONDS = 2.0
Suggestions = list[tuple[str, str]]


def fetch(ctx: typer.Context, path: str, **params: Any) -> Any:
    try:
        # Completion parses without running callbacks: --profile is only in the root's params.
        profile = ctx.find_root().params.get("profile")
        with Api(config.resolve(profile), timeout=TIMEOUT_SECONDS) as client:
            return client.get(path, **params)
    except Exception:  # noqa: BLE001 - a failed completion must never print or raise
        return []


def matching(items: Any, incomplete: str, key: str, describe) -> Suggestions:
    if not isinstance(items, list):
        return []
    return [(str(item[key]), describe(item)) for item in items
            if isinstance(item, dict) and str(item.get(key, "")).startswith(incomplete)]


def workers(ctx: typer.Context, incomplete: str) -> Suggestions:
    return matching(fetch(ctx, "/workers"), incomplete, "name",
                    lambda w: f"{w.get('status')}, {w.get('running')}/{w.get('capacity')} running")


def keys(ctx: typer.Context, incomplete: str) -> Suggestions:
    return matching(fetch(ctx, "/api-keys"), incomplete, "name", lambda k: f"{k.get('kind')} key")


def secrets(ctx: typer.Context, incomplete: str) -> Suggestions:
    return matching(fetch(ctx, "/secrets"), incomplete, "name", lambda s: "secret")


def jobs(ctx: typer.Context, incomplete: str) -> Suggestions:
    page = fetch(ctx, "/jobs", limit=50)
    items = page.get("items") if isinstance(page, dict) else []
    return matching(items, incomplete, "id",
                    lambda j: f"{j.get('status')}: {j.get('name') or j.get('command') or ''}"[:60])


def schedules(ctx: typer.Context, incomplete: str) -> Suggestions:
    return matching(fetch(ctx, "/schedules"), incomplete, "name",
                    lambda s: f"{s.get('cron')} {s.get('timezone')}"
                              + ("" if s.get("enabled") else ", paused"))


def users(ctx: typer.Context, incomplete: str) -> Suggestions:
    return matching(fetch(ctx, "/users"), incomplete, "username", lambda u: f"{u.get('role')}")
