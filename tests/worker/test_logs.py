import asyncio
import json

from jobrunner_worker.logs import AttemptLog, Masker


def make_log(batches, **kwargs) -> AttemptLog:
    kwargs.setdefault("mask", [])
    return AttemptLog(job_id="j1", attempt=2, ship=batches.append, **kwargs)


def test_every_mask_value_is_replaced_and_empty_values_ignored():
    mask = Masker(["s3cret", "", "token-abc", "s3cret-longer"])
    assert mask("a s3cret-longer b s3cret c token-abc") == "a *** b *** c ***"
    assert mask("nothing here") == "nothing here"


def test_multiline_secret_is_masked_line_by_line():
    mask = Masker(["line-one\nline-two\n"])
    assert mask("x line-two y") == "x *** y"


async def test_lines_are_masked_before_they_are_batched():
    batches = []
    log = make_log(batches, mask=["hunter2"])
    log.add(1, "stdout", "password is hunter2")
    log.flush()
    assert [line.text for line in batches[0].lines] == ["password is ***"]
    assert "hunter2" not in batches[0].model_dump_json()


async def test_batch_is_cut_by_line_count():
    batches = []
    log = make_log(batches, batch_lines=3, flush_interval=60)
    for seq in range(1, 8):
        log.add(seq, "stdout", f"l{seq}")
    assert [[line.seq for line in b.lines] for b in batches] == [[1, 2, 3], [4, 5, 6]]
    log.close()
    assert [line.seq for line in batches[-1].lines] == [7]
    assert {(b.job_id, b.attempt) for b in batches} == {("j1", 2)}


async def test_batch_is_cut_by_size_and_stays_far_below_the_socketio_limit():
    batches = []
    log = make_log(batches, batch_bytes=256 * 1024, flush_interval=60)
    # lines of control characters grow six-fold in JSON: the size counts the encoded form
    for seq in range(1, 41):
        log.add(seq, "stdout", "\x01" * 64 * 1024)
    log.close()
    assert len(batches) > 1
    for batch in batches:
        assert len(json.dumps(batch.model_dump(mode="json"))) < 1_000_000
    assert [line.seq for b in batches for line in b.lines] == list(range(1, 41))


async def test_pending_lines_leave_after_the_flush_interval():
    batches = []
    log = make_log(batches, flush_interval=0.05)
    log.add(1, "stdout", "first")
    log.add(2, "stderr", "second")
    assert batches == []
    await asyncio.sleep(0.15)
    assert len(batches) == 1
    assert [(line.seq, line.stream) for line in batches[0].lines] == [(1, "stdout"), (2, "stderr")]
    await asyncio.sleep(0.1)
    assert len(batches) == 1  # nothing pending, nothing sent


async def test_past_the_cap_one_truncation_line_is_sent_and_nothing_more() -> None:
    from jobrunner_worker.logs import AttemptLog

    batches = []
    log = AttemptLog(job_id="j", attempt=1, mask=[], ship=batches.append, max_bytes=100)
    for seq in range(1, 11):
        log.add(seq, "stdout", "x" * 30)
    log.close()
    lines = [line for batch in batches for line in batch.lines]
    assert [line.seq for line in lines] == [1, 2, 3, 4]  # 3 lines fit, the 4th is the cut
    assert lines[-1].stream == "stderr" and "truncated" in lines[-1].text
    assert log.truncated and log.last_seq == 4


def test_short_lines_of_a_multiline_secret_are_not_masked_everywhere():
    mask = Masker(['{\n  "key": "hunter2-long"\n}\n'])
    assert mask('{ "key": "hunter2-long" }') == "{ *** }"
    assert mask("}") == "}"
