"""`jobrunner jobs [list] | show | cancel | rerun`."""

import json

from tests.cli.conftest import job, jobrunner

PAGE = {"items": [
    job(id="job-2", status="failed", exit_code=3, worker="a3f9c2e1", worker_name="builder",
        created_at="2026-11-27T10:00:00Z", command="exit 3"),
    job(id="job-1", status="queued", command=None, argv=["echo", "a b"]),
], "next_cursor": None}


def test_the_table_shows_worker_names_and_commands(api, token, capsys):
    api.get("/jobs").respond(json=PAGE)
    assert jobrunner("jobs") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "EXIT", "WORKER", "CREATED", "COMMAND"]
    assert lines[1].split() == ["job-2", "failed", "3", "builder", "2026-11-27", "10:00:00",
                                "exit", "3"]
    assert lines[2].split()[:4] == ["job-1", "queued", "-", "-"]
    assert lines[2].endswith("echo 'a b'")
    assert "a3f9c2e1" not in lines[1]


def test_filters_go_to_the_api_and_list_is_the_same(api, token):
    route = api.get("/jobs").respond(json=PAGE)
    assert jobrunner("jobs", "--status", "failed", "--label", "gpu", "--worker", "builder",
                     "--search", "HI THERE", "--limit", "5") == 0
    assert jobrunner("jobs", "list", "--status", "timed_out") == 0
    first, second = (dict(call.request.url.params) for call in route.calls)
    assert first == {"status": "failed", "label": "gpu", "worker": "builder", "q": "HI THERE",
                     "limit": "5"}
    assert second == {"status": "timed_out"}


def test_json_is_the_apis_page(api, token, capsys):
    api.get("/jobs").respond(json=PAGE)
    assert jobrunner("jobs", "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out) == PAGE and out.startswith("{\n  ")


def test_a_command_with_markup_is_printed_as_it_is(api, token, capsys):
    api.get("/jobs").respond(json={"items": [job(command="echo [red]x[/red]")],
                                   "next_cursor": None})
    assert jobrunner("jobs") == 0
    assert "echo [red]x[/red]" in capsys.readouterr().out


def test_show_prints_the_job_and_its_attempts(api, token, capsys):
    shown = job(id="job-9", status="succeeded", exit_code=0, worker_name="builder",
                env={"A": "1"}, secrets=["TOKEN"], labels=["gpu"], max_retries=2,
                attempts=[
                    {"number": 1, "status": "failed", "worker": "w1", "worker_name": "old-box",
                     "exit_code": 1, "error": None, "started_at": "2026-11-27T09:00:01Z",
                     "finished_at": "2026-11-27T09:00:02Z"},
                    {"number": 2, "status": "succeeded", "worker": "w2", "worker_name": "builder",
                     "exit_code": 0, "error": None, "started_at": "2026-11-27T09:00:05Z",
                     "finished_at": "2026-11-27T09:00:06Z"},
                ])
    api.get("/jobs/job-9").respond(json=shown)
    assert jobrunner("jobs", "show", "job-9") == 0
    out = capsys.readouterr().out
    assert "status:" in out and "succeeded" in out and "A=1" in out and "TOKEN" in out
    assert "retries:" in out and "1 of 2" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert [row[:4] for row in rows] == [["1", "failed", "1", "old-box"],
                                         ["2", "succeeded", "0", "builder"]]
    assert jobrunner("jobs", "show", "job-9", "--json") == 0
    assert json.loads(capsys.readouterr().out) == shown


def test_show_of_an_unknown_job_is_the_apis_404(api, token, capsys):
    api.get("/jobs/nope").respond(404, json={"detail": "job nope not found"})
    assert jobrunner("jobs", "show", "nope") == 1
    assert capsys.readouterr().err == "jobrunner: job nope not found (HTTP 404)\n"


def test_cancel_and_rerun(api, token, capsys):
    api.post("/jobs/job-1/cancel").respond(202, json=job(status="queued"))
    api.post("/jobs/job-1/rerun").respond(201, json=job(id="job-7", rerun_of="job-1"))
    assert jobrunner("jobs", "cancel", "job-1") == 0
    assert capsys.readouterr().out == "cancel requested for job job-1 (now queued)\n"
    assert jobrunner("jobs", "rerun", "job-1") == 0
    assert capsys.readouterr().out == "job-7\n"
