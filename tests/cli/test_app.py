"""The command line as a whole: version, help, one-line errors and their exit codes, completion."""

import os
import subprocess
import sys

import pytest
from jobrunner_cli import app as cli_app

from tests.cli.conftest import jobrunner


def test_version(capsys):
    assert jobrunner("--version") == 0
    out = capsys.readouterr().out
    assert out.startswith("jobrunner ") and out.split()[1][0].isdigit()


def test_without_a_command_it_prints_its_help_and_fails(capsys):
    assert jobrunner() == 2
    out = capsys.readouterr().out
    for command in ("login", "submit", "jobs", "logs", "workers", "keys", "secrets", "tenants"):
        assert f"  {command}" in out


@pytest.mark.parametrize(("argv", "reason"), [
    (["jobs", "--status", "bogus"], "'bogus' is not one of 'queued', 'running'"),
    (["jobs", "--limit", "0"], "--limit"),
    (["keys", "create", "k", "--kind", "root"], "'root' is not one of 'worker', 'submit'"),
    (["submit"], "Missing argument 'CMD'"),
    (["submit", "--env", "NOEQUALS", "--", "true"], "--env wants NAME=VALUE"),
    (["submit", "--timeout", "0", "--", "true"], "--timeout"),
    (["nope"], "No such command 'nope'"),
    (["--profile", "a b", "jobs"], "profile name 'a b'"),
    (["logs", "-f", "--attempt", "2", "j"], "--follow shows the latest attempt"),
])
def test_usage_errors_are_one_line_and_exit_2(argv, reason, capsys, api):
    # Given nothing is asked of the API (the CLI knows these are wrong by itself)
    assert jobrunner(*argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("jobrunner: ") and err.count("\n") == 1, err
    assert reason in err
    assert not api.calls


def test_a_group_without_its_command_shows_its_commands(capsys):
    assert jobrunner("keys") == 2
    out = capsys.readouterr().out
    assert "list" in out and "create" in out and "revoke" in out


def test_an_unexpected_error_is_one_line_without_a_traceback(monkeypatch, capsys, token):
    def broken(*args, **kwargs):
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(cli_app.jobs, "list_jobs", broken)
    assert jobrunner("jobs") == 1
    err = capsys.readouterr().err
    assert err == "jobrunner: unexpected error: something broke (JOBRUNNER_DEBUG=1 shows where)\n"


def test_shell_completion_is_typers_own(tmp_path):
    # The completion script for bash, and a completion answered by the program itself.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    script = subprocess.run([sys.executable, "-m", "jobrunner_cli", "--show-completion", "bash"],
                            env=env, capture_output=True, text=True, timeout=30)
    assert script.returncode == 0, script.stderr
    assert "_JOBRUNNER_COMPLETE" in script.stdout
    answer = subprocess.run(
        [sys.executable, "-m", "jobrunner_cli"],
        env={**env, "_JOBRUNNER_COMPLETE": "complete_bash", "COMP_WORDS": "jobrunner wor",
             "COMP_CWORD": "1"},
        capture_output=True, text=True, timeout=30,
    )
    assert answer.returncode == 0, answer.stderr
    assert set(answer.stdout.split()) == {"worker", "workers"}


def test_jobrunner_worker_without_the_worker_package_says_what_to_install(monkeypatch, capsys,
                                                                          tmp_path):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "jobrunner")])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert jobrunner("worker") == 1
    assert "jobrunner-worker, which is not installed" in capsys.readouterr().err


@pytest.mark.parametrize(("words", "route", "answer", "expected"), [
    ("jobrunner workers drain bu", "/workers",
     [{"name": "builder", "status": "online"}, {"name": "gpu", "status": "online"}], ["builder"]),
    ("jobrunner keys revoke ", "/api-keys", [{"name": "a", "kind": "worker"}], ["a"]),
    ("jobrunner secrets delete DE", "/secrets", [{"name": "DEPLOY"}, {"name": "X"}], ["DEPLOY"]),
    ("jobrunner logs -f 67", "/jobs", {"items": [{"id": "6750", "status": "running"}]}, ["6750"]),
])
def test_completion_asks_the_api_for_names_and_ids(api, token, monkeypatch, capsys, words, route,
                                                   answer, expected):
    api.get(route).respond(json=answer)
    monkeypatch.setenv("_JOBRUNNER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    with pytest.raises(SystemExit):
        jobrunner()
    assert capsys.readouterr().out.split() == expected


def test_completion_without_a_login_suggests_nothing_and_prints_no_error(monkeypatch, capsys):
    monkeypatch.setenv("_JOBRUNNER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "jobrunner workers drain ")
    monkeypatch.setenv("COMP_CWORD", "3")
    with pytest.raises(SystemExit):
        jobrunner()
    out, err = capsys.readouterr()
    assert out.strip() == "" and err == ""
