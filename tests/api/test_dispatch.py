"""dispatch: what a dispatch message tells the master besides the attempt."""

from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from jobrunner_api.dispatch import dispatch_headers
from jobrunner_api.documents import Attempt, JobView
from jobrunner_shared import names


def test_a_dispatch_message_says_when_its_attempt_was_queued_and_whether_it_is_a_copy() -> None:
    created = datetime(2026, 12, 7, 9, 30, 0, 123_000, tzinfo=UTC)
    retried = created + timedelta(minutes=5)
    job = JobView(_id=PydanticObjectId(), tenant_id="t1", command="true", attempt=2,
                  created_at=created, updated_at=retried,
                  attempts=[Attempt(number=1, queued_at=created),
                            Attempt(number=2, queued_at=retried)])
    # The current attempt's queued time, in milliseconds: a master vouches for it or reads
    assert dispatch_headers(job, copy=False) == {
        names.QUEUED_AT_HEADER: int(retried.timestamp() * 1000)}
    # The sweeper's publishes are marked as copies: the master reads the job first
    assert dispatch_headers(job, copy=True) == {
        names.QUEUED_AT_HEADER: int(retried.timestamp() * 1000), names.COPY_HEADER: True}
