"""`jobrunner schedules list | show | create | update | pause | resume | trigger | delete | jobs |
preview`: by name or id, against respx routes of /api/v1/schedules."""

import json

import httpx
import pytest
from jobrunner_cli import output

from tests.cli.conftest import job, jobrunner

JOB = {"command": "backup.sh --full", "argv": None, "name": "nightly", "labels": ["db"],
       "env": {"MODE": "full"}, "secrets": ["S3_KEY"], "timeout_seconds": 600, "max_retries": 2,
       "retry_backoff_seconds": 1.0, "retry_backoff_max_seconds": 300.0, "priority": 0,
       "idempotency_key": None}


def schedule(**fields) -> dict:
    body = {"id": "s1", "name": "nightly", "cron": "30 2 * * 1-5", "timezone": "Europe/Paris",
            "enabled": True, "misfire": "run_once", "job": JOB,
            "next_run_at": "2026-12-02T01:30:00Z", "last_run_at": "2026-12-01T01:30:00Z",
            "last_job_id": "job-9", "last_error": None, "created_at": "2026-11-27T10:00:00Z",
            "updated_at": "2026-11-27T10:00:00Z"}
    body.update(fields)
    return body


SCHEDULES = [
    schedule(),
    schedule(id="s2", name="hourly", cron="@hourly", timezone="UTC", enabled=False,
             next_run_at=None, last_run_at=None, last_job_id=None),
]
PREVIEW = {"cron": "30 2 * * 1-5", "timezone": "Europe/Paris",
           "description": "At 02:30 on Monday through Friday",
           "next_runs": ["2026-12-02T02:30:00+01:00", "2026-12-03T02:30:00+01:00",
                         "2026-12-04T02:30:00+01:00", "2026-12-07T02:30:00+01:00",
                         "2026-12-08T02:30:00+01:00"]}


@pytest.fixture
def listed(api):
    return api.get("/schedules").respond(json=SCHEDULES)


@pytest.fixture
def previewed(api):
    return api.get("/schedules/preview").respond(json=PREVIEW)


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_list_shows_names_state_and_next_run(api, token, listed, capsys):
    assert jobrunner("schedules", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "CRON", "TZ", "STATE", "NEXT", "RUN", "LAST", "JOB", "ID"]
    assert lines[1].split() == ["nightly", "30", "2", "*", "*", "1-5", "Europe/Paris", "active",
                                "2026-12-02", "01:30:00", "job-9", "s1"]
    assert lines[2].split() == ["hourly", "@hourly", "UTC", "paused", "-", "-", "s2"]
    assert jobrunner("schedules", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == SCHEDULES


def test_create_sends_the_job_of_submits_options_and_prints_the_next_five_runs(
        api, token, previewed, capsys):
    created = api.post("/schedules").respond(201, json=schedule())
    assert jobrunner("schedules", "create", "nightly", "--cron", "30 2 * * 1-5", "--timezone",
                     "Europe/Paris", "--misfire", "skip", "--label", "db", "--env", "MODE=full",
                     "--secret", "S3_KEY", "--timeout", "600", "--retries", "2",
                     "--", "backup.sh", "--full") == 0
    assert sent(created) == {
        "name": "nightly", "cron": "30 2 * * 1-5", "timezone": "Europe/Paris", "enabled": True,
        "misfire": "skip",
        "job": {"command": "backup.sh --full", "name": "nightly", "labels": ["db"],
                "env": {"MODE": "full"}, "secrets": ["S3_KEY"], "timeout_seconds": 600,
                "max_retries": 2},
    }
    assert dict(previewed.calls.last.request.url.params) == {
        "cron": "30 2 * * 1-5", "timezone": "Europe/Paris", "count": "5"}
    assert capsys.readouterr().out == (
        "created schedule nightly (s1): At 02:30 on Monday through Friday, in Europe/Paris\n"
        "next runs:\n"
        "  2026-12-02 02:30:00 +01:00\n  2026-12-03 02:30:00 +01:00\n"
        "  2026-12-04 02:30:00 +01:00\n  2026-12-07 02:30:00 +01:00\n"
        "  2026-12-08 02:30:00 +01:00\n"
    )


def test_create_paused_with_argv_and_a_job_name_defaults_to_utc(api, token, previewed, capsys):
    created = api.post("/schedules").respond(201, json=schedule(enabled=False, next_run_at=None))
    assert jobrunner("schedules", "create", "nightly", "--cron", "@daily", "--paused", "--argv",
                     "--job-name", "backup", "--", "echo", "a b") == 0
    assert sent(created) == {"name": "nightly", "cron": "@daily", "timezone": "UTC",
                             "enabled": False, "job": {"argv": ["echo", "a b"], "name": "backup"}}
    out = capsys.readouterr().out
    assert "paused: no job until `jobrunner schedules resume nightly`" in out
    assert jobrunner("schedules", "create", "nightly", "--cron", "@daily", "--json", "--",
                     "true") == 0
    assert json.loads(capsys.readouterr().out)["id"] == "s1"


@pytest.mark.parametrize(("argv", "reason"), [
    (["nightly", "--", "true"], "Missing option '--cron'"),
    (["nightly", "--cron", "@daily"], "Missing argument 'CMD"),
    (["nightly", "--cron", "@daily", "--misfire", "never", "--", "true"],
     "'never' is not one of 'run_once', 'skip'"),
    (["nightly", "--cron", "@daily", "--env", "NOEQUALS", "--", "true"],
     "--env wants NAME=VALUE"),
])
def test_create_usage_errors_are_exit_2_before_the_api(api, token, capsys, argv, reason):
    assert jobrunner("schedules", "create", *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("jobrunner: ") and err.count("\n") == 1 and reason in err, err
    assert not api.calls


def test_an_expression_the_api_refuses_is_its_reason_exit_1(api, token, capsys):
    api.post("/schedules").respond(422, json={"detail": [
        {"loc": ["body", "cron"], "msg": "Value error, bad minute field '61'"}]})
    assert jobrunner("schedules", "create", "x", "--cron", "61 * * * *", "--", "true") == 1
    assert capsys.readouterr().err == \
        "jobrunner: cron: Value error, bad minute field '61' (HTTP 422)\n"


def test_a_viewer_creating_a_schedule_is_told_the_role_needed(api, token, capsys):
    api.post("/schedules").respond(403, json={
        "detail": "your role (viewer) may not do this; it needs admin or above"})
    assert jobrunner("schedules", "create", "x", "--cron", "@daily", "--", "true") == 1
    assert "it needs admin or above (HTTP 403)" in capsys.readouterr().err


def test_show_by_name_with_the_expression_in_words(api, token, listed, previewed, capsys):
    assert jobrunner("schedules", "show", "nightly") == 0
    fields = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    fields = {name: value.strip() for name, value in fields.items()}
    assert fields["id"] == "s1" and fields["state"] == "active"
    assert fields["cron"] == "30 2 * * 1-5 (At 02:30 on Monday through Friday)"
    assert fields["timezone"] == "Europe/Paris" and fields["misfire"] == "run_once"
    assert fields["next run"] == "2026-12-02 01:30:00" and fields["last job"] == "job-9"
    assert fields["command"] == "backup.sh --full" and fields["labels"] == "db"
    assert fields["secrets"] == "S3_KEY" and fields["timeout"] == "600 s"
    assert jobrunner("schedules", "show", "s2", "--json") == 0
    assert json.loads(capsys.readouterr().out) == SCHEDULES[1]


def test_an_unknown_or_ambiguous_schedule(api, token, capsys):
    api.get("/schedules").respond(json=[schedule(), schedule(id="s3")])
    assert jobrunner("schedules", "show", "ghost") == 1
    assert capsys.readouterr().err == ("jobrunner: no schedule with the id or name 'ghost' "
                                       "(`jobrunner schedules list` lists them)\n")
    assert jobrunner("schedules", "trigger", "nightly") == 2
    assert "2 schedules are named 'nightly': give the id" in capsys.readouterr().err


def test_update_changes_only_what_is_given_and_keeps_the_rest_of_the_job(
        api, token, listed, capsys):
    patched = api.patch("/schedules/s1").respond(json=schedule(cron="0 3 * * *"))
    assert jobrunner("schedules", "update", "nightly", "--cron", "0 3 * * *") == 0
    assert sent(patched) == {"cron": "0 3 * * *"}
    assert capsys.readouterr().out == \
        "updated schedule nightly (s1); next run: 2026-12-02 01:30:00\n"
    # A job option: the stored job with that one field changed
    assert jobrunner("schedules", "update", "nightly", "--timeout", "30", "--rename", "n2") == 0
    body = sent(patched)
    assert body["name"] == "n2"
    assert body["job"] == {**{k: v for k, v in JOB.items() if v is not None},
                           "timeout_seconds": 30}
    # A new command replaces the old one, whichever of command and argv it was
    assert jobrunner("schedules", "update", "nightly", "--argv", "--", "echo", "hi") == 0
    job_sent = sent(patched)["job"]
    assert job_sent["argv"] == ["echo", "hi"] and "command" not in job_sent
    assert job_sent["labels"] == ["db"]


def test_update_clears_a_list_of_its_jobs(api, token, listed, capsys):
    patched = api.patch("/schedules/s1").respond(json=schedule())
    assert jobrunner("schedules", "update", "nightly", "--clear", "labels",
                     "--clear", "env") == 0
    job_sent = sent(patched)["job"]
    assert job_sent["labels"] == [] and job_sent["env"] == {}
    assert job_sent["secrets"] == ["S3_KEY"] and job_sent["command"] == "backup.sh --full"
    assert jobrunner("schedules", "update", "nightly", "--clear", "secrets") == 0
    assert sent(patched)["job"]["secrets"] == []
    # Clearing a list and giving it anew at once is a usage error
    calls = len(api.calls)
    assert jobrunner("schedules", "update", "nightly", "--clear", "labels",
                     "--label", "gpu") == 2
    assert "--clear labels and --label together: give one" in capsys.readouterr().err
    assert len(api.calls) == calls
    assert jobrunner("schedules", "update", "nightly", "--clear", "argv") == 2


def test_update_without_a_change_is_a_usage_error(api, token, capsys):
    assert jobrunner("schedules", "update", "nightly") == 2
    assert "nothing to change" in capsys.readouterr().err and not api.calls
    assert jobrunner("schedules", "update", "nightly", "--argv") == 2
    assert "--argv goes with a new command" in capsys.readouterr().err and not api.calls


def test_pause_and_resume(api, token, listed, capsys):
    def answer(request: httpx.Request) -> httpx.Response:
        enabled = json.loads(request.content)["enabled"]
        return httpx.Response(200, json=schedule(
            id="s2", name="hourly", enabled=enabled,
            next_run_at="2026-12-01T13:00:00Z" if enabled else None))

    patched = api.patch("/schedules/s2").mock(side_effect=answer)
    assert jobrunner("schedules", "resume", "hourly") == 0
    assert sent(patched) == {"enabled": True}
    assert capsys.readouterr().out == "resumed schedule hourly; next run: 2026-12-01 13:00:00\n"
    assert jobrunner("schedules", "pause", "s2") == 0
    assert sent(patched) == {"enabled": False}
    assert capsys.readouterr().out == "paused schedule hourly: no job until it is resumed\n"
    assert jobrunner("schedules", "pause", "hourly", "--json") == 0
    assert json.loads(capsys.readouterr().out)["enabled"] is False


def test_trigger_prints_the_new_jobs_id(api, token, listed, capsys):
    triggered = api.post("/schedules/s1/trigger").respond(201, json=job(id="job-10",
                                                                        schedule_id="s1"))
    assert jobrunner("schedules", "trigger", "nightly") == 0
    assert capsys.readouterr().out == "job-10\n"  # JOB=$(jobrunner schedules trigger nightly)
    assert triggered.called
    assert jobrunner("schedules", "trigger", "s1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["schedule_id"] == "s1"


def test_delete_by_name(api, token, listed, capsys):
    deleted = api.delete("/schedules/s1").respond(204)
    assert jobrunner("schedules", "delete", "nightly") == 0
    assert capsys.readouterr().out == "deleted schedule nightly (s1)\n"
    assert deleted.called


def test_jobs_lists_what_the_schedule_made_and_pages_with_the_cursor(
        api, token, listed, monkeypatch, capsys):
    page = {"items": [job(id="job-10", status="succeeded", exit_code=0, name="nightly")],
            "next_cursor": "job-10"}
    route = api.get("/schedules/s1/jobs").respond(json=page)
    monkeypatch.setattr(output, "is_terminal", lambda: False)
    assert jobrunner("schedules", "jobs", "nightly", "--limit", "1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "EXIT", "WORKER", "CREATED", "COMMAND"]
    assert lines[1].split() == ["job-10", "succeeded", "0", "-", "2026-11-27", "09:00:00",
                                "nightly"]
    assert dict(route.calls.last.request.url.params) == {"limit": "1"}
    # On a terminal: how to see the next page
    monkeypatch.setattr(output, "is_terminal", lambda: True)
    assert jobrunner("schedules", "jobs", "nightly", "--limit", "1") == 0
    assert "jobrunner schedules jobs nightly --cursor job-10" in capsys.readouterr().err
    assert jobrunner("schedules", "jobs", "nightly", "--cursor", "job-10", "--json") == 0
    assert dict(route.calls.last.request.url.params) == {"cursor": "job-10"}
    assert json.loads(capsys.readouterr().out) == page


def test_preview_prints_the_description_and_the_next_runs(api, token, previewed, capsys):
    assert jobrunner("schedules", "preview", "--cron", "30 2 * * 1-5", "--tz", "Europe/Paris",
                     "--count", "2") == 0
    assert dict(previewed.calls.last.request.url.params) == {
        "cron": "30 2 * * 1-5", "timezone": "Europe/Paris", "count": "2"}
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "At 02:30 on Monday through Friday, in Europe/Paris:"
    assert out[1] == "  2026-12-02 02:30:00 +01:00"
    assert jobrunner("schedules", "preview", "--cron", "@daily", "--json") == 0
    assert dict(previewed.calls.last.request.url.params)["timezone"] == "UTC"
    assert json.loads(capsys.readouterr().out) == PREVIEW


def test_preview_of_a_bad_zone_is_the_apis_reason(api, token, capsys):
    api.get("/schedules/preview").respond(422, json={"detail": "unknown time zone 'Mars/Base'"})
    assert jobrunner("schedules", "preview", "--cron", "@daily", "--tz", "Mars/Base") == 1
    assert capsys.readouterr().err == "jobrunner: unknown time zone 'Mars/Base' (HTTP 422)\n"
    assert jobrunner("schedules", "preview", "--cron", "@daily", "--count", "51") == 2


def test_completion_offers_schedule_names(api, token, listed, monkeypatch, capsys):
    monkeypatch.setenv("_JOBRUNNER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "jobrunner schedules trigger ni")
    monkeypatch.setenv("COMP_CWORD", "3")
    with pytest.raises(SystemExit):
        jobrunner()
    assert capsys.readouterr().out.split() == ["nightly"]
