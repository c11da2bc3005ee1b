"""`jobrunner workers [list] | drain WORKER`."""

import json

from tests.cli.conftest import jobrunner

WORKERS = [
    {"id": "a3f9", "name": "builder", "labels": ["gpu", "linux"], "capacity": 4, "running": 2,
     "running_jobs": ["j1", "j2"], "status": "online", "last_heartbeat": "2026-11-27T10:00:00Z",
     "version": "0.1.0", "hostname": "host-a"},
    {"id": "b7c1", "name": "twin", "labels": [], "capacity": 1, "running": 0, "running_jobs": [],
     "status": "offline", "last_heartbeat": None, "version": "0.1.0", "hostname": "h1"},
    {"id": "c0d2", "name": "twin", "labels": [], "capacity": 1, "running": 0, "running_jobs": [],
     "status": "draining", "last_heartbeat": None, "version": "0.1.0", "hostname": "h2"},
]


def test_the_table_and_workers_list(api, token, capsys):
    api.get("/workers").respond(json=WORKERS)
    for argv in (["workers"], ["workers", "list"]):
        assert jobrunner(*argv) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["NAME", "STATUS", "RUNNING", "LABELS", "LAST", "HEARTBEAT",
                                    "VERSION", "HOST", "ID"]
        assert lines[1].split() == ["builder", "online", "2/4", "gpu,linux", "2026-11-27",
                                    "10:00:00", "0.1.0", "host-a", "a3f9"]
    assert jobrunner("workers", "--json") == 0
    assert json.loads(capsys.readouterr().out) == WORKERS


def test_drain_by_name_or_id(api, token, capsys):
    api.get("/workers").respond(json=WORKERS)
    drained = api.post("/workers/a3f9/drain").respond(202, json={**WORKERS[0],
                                                                "status": "draining"})
    api.post("/workers/c0d2/drain").respond(202, json=WORKERS[2])
    assert jobrunner("workers", "drain", "builder") == 0
    assert capsys.readouterr().out == "draining worker builder (a3f9)\n"
    assert drained.called
    assert jobrunner("workers", "drain", "c0d2") == 0


def test_drain_of_an_ambiguous_or_unknown_name(api, token, capsys):
    api.get("/workers").respond(json=WORKERS)
    assert jobrunner("workers", "drain", "twin") == 2
    assert "2 workers are named 'twin': give the id" in capsys.readouterr().err
    assert jobrunner("workers", "drain", "ghost") == 1
    assert "no worker with the id or name 'ghost'" in capsys.readouterr().err
