"""Profiles in the config file; the old single-login file still works and is migrated."""

import json
import os
import stat

from jobrunner_cli import config

from tests.cli.conftest import API_URL


def path():
    return config.config_path()


def write(data) -> None:
    path().parent.mkdir(parents=True, exist_ok=True)
    path().write_text(json.dumps(data))


def test_an_old_file_is_read_as_the_default_profile(monkeypatch):
    monkeypatch.delenv("JOBRUNNER_API_URL")
    write({"api_url": "http://old:8000", "token": "old-token"})
    target = config.resolve(None)
    assert (target.profile, target.api_url, target.token) == ("default", "http://old:8000",
                                                              "old-token")


def test_a_new_login_migrates_the_old_file_and_keeps_it_private():
    write({"api_url": "http://old:8000", "token": "old-token"})
    saved = config.store_login("staging", "http://staging:8000", "new-token", "me")
    data = json.loads(saved.read_text())
    assert data == {"profiles": {
        "default": {"api_url": "http://old:8000", "token": "old-token"},
        "staging": {"api_url": "http://staging:8000", "token": "new-token", "username": "me"},
    }}
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert [p.name for p in saved.parent.iterdir()] == ["config.json"]  # no temporary left


def test_profile_from_option_else_environment_else_default(monkeypatch):
    monkeypatch.delenv("JOBRUNNER_API_URL")
    write({"profiles": {"default": {"api_url": "http://a", "token": "ta"},
                        "prod": {"api_url": "http://p", "token": "tp"}}})
    assert config.resolve(None).token == "ta"
    monkeypatch.setenv("JOBRUNNER_PROFILE", "prod")
    assert config.resolve(None).api_url == "http://p"
    assert config.resolve("default").api_url == "http://a"


def test_environment_settings_win_over_the_profile(monkeypatch):
    write({"profiles": {"default": {"api_url": "http://a", "token": "ta"}}})
    monkeypatch.setenv("JOBRUNNER_TOKEN", "from-env")
    target = config.resolve(None)
    assert (target.api_url, target.token) == (API_URL, "from-env")


def test_urls_lose_a_trailing_slash_and_api_v1(monkeypatch):
    monkeypatch.setenv("JOBRUNNER_API_URL", "https://jobs.example.com/api/v1/")
    assert config.resolve(None).api_url == "https://jobs.example.com"


def test_a_broken_file_is_a_one_line_reason(capsys):
    path().parent.mkdir(parents=True)
    path().write_text("{not json")
    from tests.cli.conftest import jobrunner

    assert jobrunner("jobs") == 1
    err = capsys.readouterr().err
    assert err.startswith("jobrunner: cannot read ") and err.count("\n") == 1
