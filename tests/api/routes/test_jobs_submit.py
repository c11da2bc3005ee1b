"""`POST /jobs` (routes/jobs.py): a well-formed submission by a member is answered directly, and
every request gets the answer FastAPI's own path gives, word for word. In-process, the job
store stubbed: what is compared is the HTTP layer."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from beanie import PydanticObjectId

from jobrunner_api.accounts import Account
from jobrunner_api.app import create_app
from jobrunner_api.documents import Attempt, JobView
from jobrunner_api.routes import jobs as jobs_routes
from jobrunner_api.security import TokenClaims, create_access_token
from jobrunner_api.settings import Settings

USER = str(PydanticObjectId())
VIEWER = str(PydanticObjectId())
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
JOB_ID = PydanticObjectId()


class Accounts:
    async def get(self, user_id: str) -> Account | None:
        role = {USER: "member", VIEWER: "viewer"}.get(user_id)
        return None if role is None else Account(user_id, "someone", "tenant-1", role, False, 0)


class Jobs:
    def __init__(self) -> None:
        self.submitted: list = []

    async def submit(self, spec, tenant_id: str) -> tuple[JobView, bool]:  # noqa: ANN001
        self.submitted.append((spec, tenant_id))
        job = JobView(_id=JOB_ID, tenant_id=tenant_id, created_at=AT, updated_at=AT,
                      attempts=[Attempt(number=1, queued_at=AT)], **spec.model_dump())
        return job, spec.idempotency_key != "seen"


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.accounts = Accounts()
        self.jobs = Jobs()


@pytest.fixture
def api() -> Iterator[tuple[httpx.AsyncClient, Platform]]:
    settings = Settings(environment="development")
    app = create_app(settings)
    platform = Platform(settings)
    app.state.platform = platform
    yield httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                            base_url="http://api/api/v1"), platform


def bearer(user_id: str, settings: Settings) -> str:
    token = create_access_token(TokenClaims(user_id, "tenant-1", 0), settings.secret_key, 5)
    return f"Bearer {token}"


JSON = "application/json"
CASES = {
    # name: (headers, body, taken directly)
    "a job": ({"content-type": JSON}, {"command": "echo hi"}, True),
    "with parameters": ({"content-type": "application/json; charset=utf-8"},
                        {"argv": ["ls", "-l"], "labels": ["gpu"], "priority": 3}, True),
    "an idempotency header": ({"content-type": JSON, "idempotency-key": "k1"},
                              {"command": "x"}, True),
    "a repeated key": ({"content-type": JSON}, {"command": "x", "idempotency_key": "seen"}, True),
    "a key too long": ({"content-type": JSON, "idempotency-key": "k" * 201}, {"command": "x"},
                       False),
    "no token": ({"content-type": JSON, "authorization": ""}, {"command": "x"}, False),
    "another scheme": ({"content-type": JSON, "authorization": "Basic eDp5"}, {"command": "x"},
                       False),
    "a bad token": ({"content-type": JSON, "authorization": "Bearer nope"}, {"command": "x"},
                    False),
    "a viewer": ({"content-type": JSON, "authorization": "viewer"}, {"command": "x"}, False),
    "an invalid job": ({"content-type": JSON}, {"command": "x", "timeout_seconds": -5}, False),
    "both command and argv": ({"content-type": JSON}, {"command": "x", "argv": ["y"]}, False),
    "not JSON": ({"content-type": JSON}, b"{not json", False),
    "JSON not an object": ({"content-type": JSON}, [1, 2], False),
    "another media type": ({"content-type": "text/plain"}, {"command": "x"}, False),
    "no media type": ({}, {"command": "x"}, False),
}


async def answer(client: httpx.AsyncClient, platform: Platform, headers: dict,
                 body: object) -> tuple[int, dict, list]:
    headers = {"authorization": bearer(USER, platform.settings), **headers}
    if headers["authorization"] == "viewer":
        headers["authorization"] = bearer(VIEWER, platform.settings)
    if headers["authorization"] == "":
        del headers["authorization"]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if "content-type" not in headers:
        headers["content-type"] = ""  # httpx would add one
    response = await client.post("/jobs", content=content, headers=headers)
    submitted = [(spec.model_dump(), tenant) for spec, tenant in platform.jobs.submitted]
    platform.jobs.submitted.clear()
    return response.status_code, response.json(), submitted


@pytest.mark.parametrize("case", CASES)
async def test_each_request_gets_fastapis_answer(api, case: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client, platform = api
    headers, body, direct = CASES[case]
    taken: list[bool] = []
    real = jobs_routes.submit_directly

    async def spy(request):  # noqa: ANN001, ANN202
        answered = await real(request)
        taken.append(answered is not None)
        return answered

    monkeypatch.setattr(jobs_routes, "submit_directly", spy)
    directly = await answer(client, platform, headers, body)
    assert taken == [direct]

    async def never(request):  # noqa: ANN001, ANN202
        return None

    monkeypatch.setattr(jobs_routes, "submit_directly", never)
    assert await answer(client, platform, headers, body) == directly
    if direct:
        assert directly[0] in (200, 201) and directly[1]["id"] == str(JOB_ID)
    else:
        assert directly[0] in (401, 403, 422) or case == "no media type"
        assert directly[2] == [] or case == "no media type"
