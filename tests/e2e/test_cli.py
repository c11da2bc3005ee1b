"""The `jobrunner` CLI against the real platform, as a user runs it in a shell."""

import secrets
import subprocess
from pathlib import Path

import pytest

from tests.support.platform import BIN, Tenant, login

pytestmark = pytest.mark.e2e


def jobrunner(api_url: str, home: Path, *args: str, timeout: float = 60,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "jobrunner"), *args],
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home),
             "JOBRUNNER_API_URL": api_url, **env},
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def test_login_submit_wait_logs_jobs_and_workers(platform, start_worker, tmp_path: Path) -> None:
    # Given a tenant whose admin password we know, with one worker
    name, password = f"cli-{secrets.token_hex(4)}", "cli-password-1"
    with platform.admin().client() as admin:
        created = admin.post("/tenants", json={"name": name, "admin_username": name,
                                                "admin_password": password})
        assert created.status_code == 201
    url = platform.api_url
    tenant = Tenant(platform, name, login(url, name, password))
    start_worker(tenant.worker_key(), name="cli-worker")
    tenant.wait_workers_online(1)

    # jobrunner login saves the token
    logged_in = jobrunner(url, tmp_path, "login", "--username", name, "--password", password)
    assert logged_in.returncode == 0, logged_in.stderr
    assert (tmp_path / "jobrunner" / "config.json").exists()

    # submit prints the id; --wait follows the log and exits with the job's exit code
    waited = jobrunner(url, tmp_path, "submit", "--wait", "--",
                       "echo out; echo err >&2; exit 4")
    assert waited.returncode == 4, waited.stderr
    assert "out" in waited.stdout and "err" in waited.stderr
    plain = jobrunner(url, tmp_path, "submit", "--", "echo", "hi there")
    assert plain.returncode == 0, plain.stderr
    job_id = plain.stdout.strip().splitlines()[-1]
    tenant.wait_final(job_id)

    logs = jobrunner(url, tmp_path, "logs", job_id)
    assert logs.returncode == 0 and logs.stdout.strip() == "hi there"
    follow = jobrunner(url, tmp_path, "logs", "-f", job_id)
    assert follow.returncode == 0 and follow.stdout.strip() == "hi there"

    jobs = jobrunner(url, tmp_path, "jobs")
    assert jobs.returncode == 0 and job_id in jobs.stdout
    found = jobrunner(url, tmp_path, "jobs", "--search", "HI THERE", "--status", "succeeded")
    assert found.returncode == 0 and job_id in found.stdout
    assert len(found.stdout.strip().splitlines()) == 2  # the header and that job
    workers = jobrunner(url, tmp_path, "workers")
    assert workers.returncode == 0 and "cli-worker" in workers.stdout


def test_without_a_token_the_cli_says_to_log_in(platform, tmp_path: Path) -> None:
    result = jobrunner(platform.api_url, tmp_path, "jobs")
    assert result.returncode == 1
    assert "jobrunner login" in result.stderr


def test_jobrunner_worker_is_the_worker(tmp_path: Path) -> None:
    # Without an API key both entry points stop with the same clear message.
    for argv in ([str(BIN / "jobrunner"), "worker"], [str(BIN / "jobrunner-worker")]):
        result = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                                capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert result.returncode != 0
        assert "API_KEY" in result.stderr, result.stderr


def test_secrets_set_list_delete_and_submit_with_a_secret(platform, start_worker,
                                                          tmp_path: Path) -> None:
    # Given a logged-in tenant admin with a worker
    name, password = f"cli-s-{secrets.token_hex(4)}", "cli-password-1"
    with platform.admin().client() as admin:
        assert admin.post("/tenants", json={"name": name, "admin_username": name,
                                            "admin_password": password}).status_code == 201
    url = platform.api_url
    tenant = Tenant(platform, name, login(url, name, password))
    start_worker(tenant.worker_key(), name="cli-secrets-worker")
    assert jobrunner(url, tmp_path, "login", "-u", name, "-p", password).returncode == 0
    value = f"cli-{secrets.token_hex(8)}"

    # `secrets set` takes the value from stdin, without echo's line break
    result = subprocess.run(
        [str(BIN / "jobrunner"), "secrets", "set", "CLI_TOKEN"], input=value + "\n",
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path),
             "JOBRUNNER_API_URL": url}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created secret CLI_TOKEN"
    again = jobrunner(url, tmp_path, "secrets", "set", "CLI_TOKEN", "--value", value)
    assert again.returncode == 0 and again.stdout.strip() == "replaced secret CLI_TOKEN"

    # `secrets list` shows the name, never the value
    listed = jobrunner(url, tmp_path, "secrets", "list")
    assert listed.returncode == 0 and "CLI_TOKEN" in listed.stdout
    assert value not in listed.stdout

    # `submit --secret` gives the job the exact value, and its output shows ***
    waited = jobrunner(url, tmp_path, "submit", "--secret", "CLI_TOKEN", "--env",
                       f"EXPECTED={value}", "--wait", "--",
                       'test "$CLI_TOKEN" = "$EXPECTED" && echo "match $CLI_TOKEN"')
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.strip() == "match ***"

    # A job naming an unknown secret is refused with the API's reason
    unknown = jobrunner(url, tmp_path, "submit", "--secret", "NOPE", "--", "true")
    assert unknown.returncode == 1 and "unknown secret NOPE" in unknown.stderr

    # `secrets delete` removes it; deleting it again says it is not there
    deleted = jobrunner(url, tmp_path, "secrets", "delete", "CLI_TOKEN")
    assert deleted.returncode == 0 and deleted.stdout.strip() == "deleted secret CLI_TOKEN"
    gone = jobrunner(url, tmp_path, "secrets", "delete", "CLI_TOKEN")
    assert gone.returncode == 1 and "404" in gone.stderr
    assert "CLI_TOKEN" not in jobrunner(url, tmp_path, "secrets", "list").stdout
