"""The `jobrunner` CLI (services/cli) against the real platform, as a user runs it in a shell."""

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.support.platform import BIN, Tenant, login

pytestmark = pytest.mark.e2e


def jobrunner(api_url: str, home: Path, *args: str, timeout: float = 60, input: str | None = None,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "jobrunner"), *args],
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home),
             "JOBRUNNER_API_URL": api_url, **env},
        capture_output=True, text=True, timeout=timeout,
        **({"input": input} if input is not None else {"stdin": subprocess.DEVNULL}),
    )


def new_tenant(platform, prefix: str) -> tuple[str, str, Tenant]:
    name, password = f"{prefix}-{secrets.token_hex(4)}", "cli-password-1"
    with platform.admin().client() as admin:
        created = admin.post("/tenants", json={"name": name, "admin_username": name,
                                                "admin_password": password})
        assert created.status_code == 201
    return name, password, Tenant(platform, name, login(platform.api_url, name, password))


def test_login_submit_wait_logs_jobs_and_workers(platform, start_worker, tmp_path: Path) -> None:
    # Given a tenant whose admin password we know, with one worker
    name, password, tenant = new_tenant(platform, "cli")
    url = platform.api_url
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
    job_id = plain.stdout.strip()
    tenant.wait_final(job_id)

    logs = jobrunner(url, tmp_path, "logs", job_id)
    assert logs.returncode == 0 and logs.stdout.strip() == "hi there"
    follow = jobrunner(url, tmp_path, "logs", "-f", job_id)
    assert follow.returncode == 0 and follow.stdout.strip() == "hi there"

    # jobs: the table names the worker; filters; --json is the API's page
    jobs = jobrunner(url, tmp_path, "jobs")
    assert jobs.returncode == 0 and job_id in jobs.stdout
    row = next(line for line in jobs.stdout.splitlines() if line.startswith(job_id))
    assert row.split()[1:4] == ["succeeded", "0", "cli-worker"]
    found = jobrunner(url, tmp_path, "jobs", "list", "--search", "HI THERE", "--status",
                      "succeeded")
    assert found.returncode == 0 and job_id in found.stdout
    assert len(found.stdout.strip().splitlines()) == 2  # the header and that job
    page = json.loads(jobrunner(url, tmp_path, "jobs", "--json", "--worker", "cli-worker").stdout)
    assert job_id in [item["id"] for item in page["items"]]
    shown = jobrunner(url, tmp_path, "jobs", "show", job_id, "--json")
    assert json.loads(shown.stdout)["worker_name"] == "cli-worker"
    assert "cli-worker" in jobrunner(url, tmp_path, "jobs", "show", job_id).stdout

    # A status the platform does not have: one line, before any request
    bogus = jobrunner(url, tmp_path, "jobs", "--status", "bogus")
    assert bogus.returncode == 2 and bogus.stderr.count("\n") == 1
    assert bogus.stderr.startswith("jobrunner: ") and "'bogus' is not one of" in bogus.stderr

    workers = jobrunner(url, tmp_path, "workers")
    assert workers.returncode == 0 and "cli-worker" in workers.stdout
    assert json.loads(jobrunner(url, tmp_path, "workers", "list", "--json").stdout)[0]["name"] \
        == "cli-worker"


def test_cancel_rerun_and_drain(platform, start_worker, tmp_path: Path) -> None:
    name, password, tenant = new_tenant(platform, "cli-c")
    url = platform.api_url
    start_worker(tenant.worker_key(), name="cli-drain-worker")
    tenant.wait_workers_online(1)
    assert jobrunner(url, tmp_path, "login", "-u", name, "-p", password).returncode == 0

    # A running job cancelled from the CLI ends cancelled
    slow = jobrunner(url, tmp_path, "submit", "--", "sleep 60").stdout.strip()
    tenant.wait_job(slow, lambda job: job["status"] == "running")
    cancelled = jobrunner(url, tmp_path, "jobs", "cancel", slow)
    assert cancelled.returncode == 0
    assert cancelled.stdout.startswith(f"cancel requested for job {slow}")
    assert tenant.wait_final(slow)["status"] == "cancelled"

    # rerun makes a new job of the same command, --wait gives its exit code
    first = jobrunner(url, tmp_path, "submit", "--wait", "--", "exit 3")
    assert first.returncode == 3
    first_id = first.stderr.splitlines()[0]
    rerun = jobrunner(url, tmp_path, "jobs", "rerun", "--wait", first_id)
    assert rerun.returncode == 3, rerun.stderr
    assert tenant.job(rerun.stderr.splitlines()[0])["rerun_of"] == first_id

    # drain by the worker's name: the worker exits by itself
    drained = jobrunner(url, tmp_path, "workers", "drain", "cli-drain-worker")
    assert drained.returncode == 0, drained.stderr
    assert drained.stdout.startswith("draining worker cli-drain-worker (")


def test_keys_tenants_and_profiles(platform, tmp_path: Path) -> None:
    url = platform.api_url
    # The platform admin in the profile `ops`, a tenant's admin in `default`
    assert jobrunner(url, tmp_path, "--profile", "ops", "login", "-u", "admin",
                     "-p", "admin").returncode == 0
    name = f"cli-t-{secrets.token_hex(4)}"
    created = jobrunner(url, tmp_path, "--profile", "ops", "tenants", "create", name,
                        "--admin-username", name, input="cli-password-1\n")
    assert created.returncode == 0, created.stderr
    listed = jobrunner(url, tmp_path, "tenants", "list", JOBRUNNER_PROFILE="ops")
    assert listed.returncode == 0 and name in listed.stdout
    assert jobrunner(url, tmp_path, "login", "-u", name, "-p", "cli-password-1").returncode == 0
    refused = jobrunner(url, tmp_path, "tenants", "list")
    assert refused.returncode == 1 and "platform admin only (HTTP 403)" in refused.stderr

    # keys: created (printed once), listed by name, revoked by name
    key = jobrunner(url, tmp_path, "keys", "create", "cli-box")
    assert key.returncode == 0 and key.stdout.strip()
    keys = jobrunner(url, tmp_path, "keys", "list")
    assert "cli-box" in keys.stdout and key.stdout.strip() not in keys.stdout
    assert jobrunner(url, tmp_path, "keys", "revoke", "cli-box").returncode == 0
    assert "cli-box" not in jobrunner(url, tmp_path, "keys", "list").stdout

    profiles = json.loads(jobrunner(url, tmp_path, "profiles", "--json").stdout)
    assert {p["name"]: p["username"] for p in profiles} == {"default": name, "ops": "admin"}


def test_without_a_token_the_cli_says_to_log_in(platform, tmp_path: Path) -> None:
    result = jobrunner(platform.api_url, tmp_path, "jobs")
    assert result.returncode == 3
    assert "jobrunner login" in result.stderr


def test_jobrunner_worker_is_the_worker(tmp_path: Path) -> None:
    # Without an API key both entry points stop with the same clear message.
    for argv in ([str(BIN / "jobrunner"), "worker"], [str(BIN / "jobrunner-worker")]):
        result = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                                capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert result.returncode == 2
        assert "API_KEY" in result.stderr, result.stderr


def test_secrets_set_list_delete_and_submit_with_a_secret(platform, start_worker,
                                                          tmp_path: Path) -> None:
    # Given a logged-in tenant admin with a worker
    name, password, tenant = new_tenant(platform, "cli-s")
    url = platform.api_url
    start_worker(tenant.worker_key(), name="cli-secrets-worker")
    assert jobrunner(url, tmp_path, "login", "-u", name, "-p", password).returncode == 0
    value = f"cli-{secrets.token_hex(8)}"

    # `secrets set` takes the value from stdin, without echo's line break
    result = jobrunner(url, tmp_path, "secrets", "set", "CLI_TOKEN", input=value + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created secret CLI_TOKEN"
    again = jobrunner(url, tmp_path, "secrets", "set", "CLI_TOKEN", "--value", value)
    assert again.returncode == 0 and again.stdout.strip() == "replaced secret CLI_TOKEN"

    # `secrets list` shows the name, never the value
    listed = jobrunner(url, tmp_path, "secrets", "list")
    assert listed.returncode == 0 and "CLI_TOKEN" in listed.stdout
    assert value not in listed.stdout
    assert [s["name"] for s in json.loads(
        jobrunner(url, tmp_path, "secrets", "list", "--json").stdout)] == ["CLI_TOKEN"]

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
    assert gone.returncode == 1 and "(HTTP 404)" in gone.stderr
    assert gone.stderr.count("\n") == 1
    assert "CLI_TOKEN" not in jobrunner(url, tmp_path, "secrets", "list").stdout


def test_schedules_create_trigger_and_jobs(platform, start_worker, tmp_path: Path) -> None:
    # Given a logged-in tenant admin with a worker
    name, password, tenant = new_tenant(platform, "cli-sch")
    url = platform.api_url
    start_worker(tenant.worker_key(), name="cli-schedule-worker")
    tenant.wait_workers_online(1)
    assert jobrunner(url, tmp_path, "login", "-u", name, "-p", password).returncode == 0

    # `schedules create` prints the expression in words and its next five fire times
    created = jobrunner(url, tmp_path, "schedules", "create", "cli-nightly", "--cron",
                        "30 2 * * *", "--timezone", "Europe/Paris", "--", "echo", "from schedule")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert lines[0].startswith("created schedule cli-nightly (") and "Europe/Paris" in lines[0]
    runs = [line.strip() for line in lines[2:]]
    assert len(runs) == 5 and all(run.endswith(("+01:00", "+02:00")) for run in runs)
    assert all(" 02:30:00 " in run for run in runs)
    # The list's NEXT RUN is in local time (UTC here): 02:30 in Paris is 00:30 or 01:30 UTC
    listed = jobrunner(url, tmp_path, "schedules", "list", TZ="UTC")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[1].split()[:9] == ["cli-nightly", "30", "2", "*", "*", "*",
                                                         "Europe/Paris", "active", runs[0][:10]]

    # `trigger` makes the job now and prints its id; `--wait` ends with its exit code
    triggered = jobrunner(url, tmp_path, "schedules", "trigger", "cli-nightly")
    assert triggered.returncode == 0, triggered.stderr
    job_id = triggered.stdout.strip()
    assert tenant.wait_final(job_id)["status"] == "succeeded"
    assert jobrunner(url, tmp_path, "logs", job_id).stdout.strip() == "from schedule"

    # `jobs` lists what the schedule made; paused, it stays listed as paused
    made = json.loads(jobrunner(url, tmp_path, "schedules", "jobs", "cli-nightly",
                                "--json").stdout)
    assert [job["id"] for job in made["items"]] == [job_id]
    assert made["items"][0]["schedule_id"]
    table = jobrunner(url, tmp_path, "schedules", "jobs", "cli-nightly")
    assert table.returncode == 0 and job_id in table.stdout and "succeeded" in table.stdout
    assert jobrunner(url, tmp_path, "schedules", "pause", "cli-nightly").returncode == 0
    shown = json.loads(jobrunner(url, tmp_path, "schedules", "show", "cli-nightly",
                                 "--json").stdout)
    assert shown["enabled"] is False and shown["next_run_at"] is None
    assert shown["last_job_id"] == job_id
    assert jobrunner(url, tmp_path, "schedules", "delete", "cli-nightly").returncode == 0
    assert "cli-nightly" not in jobrunner(url, tmp_path, "schedules", "list").stdout
