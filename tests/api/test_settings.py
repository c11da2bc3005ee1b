"""The API's settings: what is refused at start, with the setting's name."""

import pytest
from pydantic import ValidationError

from jobrunner_api.settings import Settings


@pytest.mark.parametrize("prefetch", ["0", "-1"])
def test_a_consumer_prefetch_below_one_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                  prefetch: str) -> None:
    # 0 would be no limit at all for RabbitMQ, and a job-events batch of nothing
    monkeypatch.setenv("CONSUMER_PREFETCH", prefetch)
    with pytest.raises(ValidationError, match="consumer_prefetch"):
        Settings(environment="development")


def test_the_consumer_prefetch_defaults_to_eight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSUMER_PREFETCH", raising=False)
    assert Settings(environment="development").consumer_prefetch == 8
