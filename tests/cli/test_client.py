"""What the API answers, as one line each: its detail, field errors, 401, no connection."""

import subprocess
import sys

import httpx
import pytest

from tests.cli.conftest import jobrunner


def test_the_apis_detail_and_status_code(api, token, capsys):
    api.delete("/secrets/NOPE").respond(404, json={"detail": "secret NOPE not found"})
    assert jobrunner("secrets", "delete", "NOPE") == 1
    assert capsys.readouterr().err == "jobrunner: secret NOPE not found (HTTP 404)\n"


def test_field_errors_are_plain_words_not_pydantic_json(api, token, capsys):
    api.post("/jobs").respond(422, json={"detail": [
        {"type": "less_than_equal", "loc": ["body", "priority"],
         "msg": "Input should be less than or equal to 9", "input": 12, "ctx": {"le": 9}},
        {"type": "value_error", "loc": ["body"], "msg": "Value error, give exactly one"},
    ]})
    assert jobrunner("submit", "--priority", "12", "--", "true") == 1
    err = capsys.readouterr().err
    assert err == ("jobrunner: priority: Input should be less than or equal to 9; "
                   "Value error, give exactly one (HTTP 422)\n")


def test_an_answer_that_is_not_json_is_cut_to_one_line(api, token, capsys):
    api.get("/workers").respond(502, text="<html>\n<b>Bad gateway</b>\n</html>")
    assert jobrunner("workers") == 1
    assert capsys.readouterr().err == "jobrunner: <html> <b>Bad gateway</b> </html> (HTTP 502)\n"


def test_a_refused_token_says_to_log_in_exit_3(api, token, capsys):
    api.get("/jobs").respond(401, json={"detail": "missing, invalid or expired token"})
    assert jobrunner("jobs") == 3
    err = capsys.readouterr().err
    assert "run `jobrunner login`" in err and "expired token" in err


@pytest.mark.parametrize(("error", "reason"), [
    (httpx.ConnectError("[Errno 111] Connection refused"), "cannot connect to the API at"),
    (httpx.ReadTimeout("timed out"), "did not answer in time"),
])
def test_transport_errors_are_exit_4(api, token, capsys, error, reason):
    api.get("/workers").mock(side_effect=error)
    assert jobrunner("workers") == 4
    err = capsys.readouterr().err
    assert err.startswith("jobrunner: ") and reason in err and err.count("\n") == 1


def test_an_unreachable_api_as_a_real_process(tmp_path):
    from tests.support.ports import free_port

    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path), "JOBRUNNER_TOKEN": "t",
           "JOBRUNNER_API_URL": f"http://127.0.0.1:{free_port()}"}
    result = subprocess.run([sys.executable, "-m", "jobrunner_cli", "jobs"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 4
    assert "cannot connect to the API at http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
