"""Where `jobrunner` keeps its logins, one per profile: $XDG_CONFIG_HOME/jobrunner/config.json.

The file (mode 0600, in a 0700 directory) holds

    {"profiles": {"default": {"api_url": "...", "token": "...", "username": "..."},
                  "staging": {...}}}

The file of earlier versions, `{"api_url": ..., "token": ...}`, is read as the profile
`default` and rewritten in the new form at the next `jobrunner login`.

Which profile: `--profile NAME`, else JOBRUNNER_PROFILE, else `default`. JOBRUNNER_API_URL and
JOBRUNNER_TOKEN win over what the profile holds (SPEC §7).
"""

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CliError, UsageProblem

DEFAULT_PROFILE = "default"
DEFAULT_API_URL = "http://localhost:8000"
PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Target:
    """The API a command talks to, and with which token."""

    profile: str
    api_url: str  # without /api/v1
    token: str | None


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jobrunner" / "config.json"


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/").removesuffix("/api/v1")
    if not url.startswith(("http://", "https://")):
        raise UsageProblem(f"API URL {url!r} must start with http:// or https://")
    return url


def profile_name(option: str | None) -> str:
    name = option or os.environ.get("JOBRUNNER_PROFILE") or DEFAULT_PROFILE
    if not PROFILE_RE.match(name):
        raise UsageProblem(
            f"profile name {name!r}: 1-64 letters, digits and _.- (starting with a letter or digit)"
        )
    return name


def load() -> dict[str, Any]:
    """The file in its current form (an old single-login file becomes the profile `default`)."""
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"profiles": {}}
    except (ValueError, OSError) as exc:
        raise CliError(f"cannot read {path}: {exc} (fix it, or remove it and log in again)")
    if not isinstance(data, dict):
        raise CliError(f"cannot read {path}: not a JSON object (remove it and log in again)")
    profiles = data.get("profiles")
    if not isinstance(profiles, dict):
        old = {k: data[k] for k in ("api_url", "token", "username") if k in data}
        profiles = {DEFAULT_PROFILE: old} if old else {}
    return {"profiles": {name: p for name, p in profiles.items() if isinstance(p, dict)}}


def save(config: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written to a private temporary file, then renamed over the old one: the token is never
    # readable by others, not even briefly, and a crash never leaves half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(config, file, indent=2)
            file.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def saved_profile(name: str) -> dict[str, Any]:
    return load()["profiles"].get(name, {})


def store_login(name: str, api_url: str, token: str, username: str) -> Path:
    config = load()
    config["profiles"][name] = {"api_url": api_url, "token": token, "username": username}
    return save(config)


def resolve(profile_option: str | None) -> Target:
    name = profile_name(profile_option)
    saved = saved_profile(name)
    url = os.environ.get("JOBRUNNER_API_URL") or saved.get("api_url") or DEFAULT_API_URL
    token = os.environ.get("JOBRUNNER_TOKEN") or saved.get("token") or None
    return Target(profile=name, api_url=normalize_url(url), token=token)
