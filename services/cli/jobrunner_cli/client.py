"""The REST API (SPEC §3) as the commands use it: every failure becomes a one-line CliError."""

import contextlib
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from .config import Target
from .errors import AuthProblem, CliError, Unreachable

TIMEOUT_SECONDS = 30.0


def package_version() -> str:
    try:
        return version("jobrunner-cli")
    except PackageNotFoundError:
        return "0+unknown"


def login_hint(profile: str) -> str:
    flag = "" if profile == "default" else f" --profile {profile}"
    return f"run `jobrunner{flag} login`"


def detail_of(response: httpx.Response) -> str:
    """The API's `detail` in plain words: a string, or FastAPI's list of field errors."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:200]
        return text or response.reason_phrase or "no reason given"
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # request validation: [{loc, msg, type, ...}, ...]
        problems = []
        for item in detail:
            if not isinstance(item, dict):
                problems.append(str(item))
                continue
            loc = [str(part) for part in item.get("loc", [])
                   if part not in ("body", "query", "path")]
            msg = str(item.get("msg", "invalid"))
            problems.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
        return "; ".join(problems) or "invalid request"
    return json.dumps(detail)


def retry_after_seconds(response: httpx.Response) -> int | None:
    """A 429's Retry-After in seconds (it may be given as seconds or as an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds()))


def retry_after(response: httpx.Response) -> str | None:
    """When to try again, in words, unless the API's detail already says it in seconds."""
    seconds = retry_after_seconds(response)
    if seconds is None:
        return "retry later"
    return None if f"{seconds} s" in detail_of(response) else f"retry after {seconds} s"


class Api:
    """One API (base URL + token). Use as a context manager."""

    def __init__(self, target: Target, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.target = target
        self.timeout = timeout
        headers = {"User-Agent": f"jobrunner-cli/{package_version()}"}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        self.http = httpx.Client(base_url=f"{target.api_url}/api/v1", headers=headers,
                                 timeout=timeout)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # --- errors ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """httpx's transport errors as one-line reasons (exit code 4)."""
        url = self.target.api_url
        try:
            yield
        except httpx.ConnectError as exc:
            raise Unreachable(
                f"cannot connect to the API at {url} ({exc or 'connection failed'}): is it "
                "running? (set JOBRUNNER_API_URL, or `jobrunner login --api-url URL`)"
            ) from None
        except httpx.TimeoutException:
            raise Unreachable(f"the API at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"request to the API at {url} failed: {exc or type(exc).__name__}")

    def check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 401:
            raise AuthProblem(
                f"not logged in, or the token expired or was refused: "
                f"{login_hint(self.target.profile)} ({detail_of(response)})"
            )
        if response.status_code == 429:
            hint = retry_after(response)
            raise CliError(f"{detail_of(response)} (HTTP 429{': ' + hint if hint else ''})")
        # A 403's detail says which role the action needs (SPEC §3): printed as it is.
        if response.status_code >= 400:
            raise CliError(f"{detail_of(response)} (HTTP {response.status_code})")
        return response

    def require_token(self) -> None:
        if not self.target.token:
            raise AuthProblem(
                f"not logged in (profile {self.target.profile}): {login_hint(self.target.profile)}"
                " or set JOBRUNNER_TOKEN"
            )

    # --- requests ----------------------------------------------------------------------------

    def request(self, method: str, path: str, *, auth: bool = True,
                **kwargs: Any) -> httpx.Response:
        if auth:
            self.require_token()
        with self.translated():
            return self.check(self.http.request(method, path, **kwargs))

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f"the API answered {method} {path} with something not JSON") from None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None})
