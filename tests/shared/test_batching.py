"""Group commit: one item at once when quiet, the others together while a flush is in flight."""

import asyncio

import pytest

from jobrunner_shared.batching import GroupCommit


async def test_items_wait_for_the_flush_in_flight_and_go_together() -> None:
    flushed: list[list[int]] = []
    gate = asyncio.Event()

    async def flush(items: list[int]) -> None:
        flushed.append(items)
        if len(flushed) == 1:
            await gate.wait()  # the first flush is slow

    group = GroupCommit(flush)
    first = asyncio.create_task(group.submit(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *rest)
    assert flushed == [[1], [2, 3, 4]]


async def test_a_failed_flush_fails_each_of_its_items_and_not_the_next_batch() -> None:
    async def flush(items: list[int]) -> None:
        if 13 in items:
            raise ConnectionError("broker away")

    group = GroupCommit(flush)
    with pytest.raises(ConnectionError):
        await group.submit(13)
    await group.submit(14)  # the group goes on


async def stream(group: GroupCommit, count: int, every: float) -> None:
    tasks = []
    for n in range(count):
        tasks.append(asyncio.create_task(group.submit(n)))
        await asyncio.sleep(every)
    await asyncio.gather(*tasks)


def recording(flush_seconds: float, **options: float) -> tuple[GroupCommit, list[list[int]]]:
    """A group whose flush takes `flush_seconds`, and the batches it flushed."""
    flushed: list[list[int]] = []

    async def flush(items: list[int]) -> None:
        flushed.append(items)
        await asyncio.sleep(flush_seconds)

    return GroupCommit(flush, **options), flushed


async def fewer_batches(count: int, every: float, plain: tuple[GroupCommit, list[list[int]]],
                        grouped: tuple[GroupCommit, list[list[int]]]) -> tuple[int, int]:
    """Streams `count` items, one every `every` s, into both groups at once: how many batches
    each flushed (none lost)."""
    await asyncio.gather(stream(plain[0], count, every), stream(grouped[0], count, every))
    for _, flushes in (plain, grouped):
        assert sorted(n for batch in flushes for n in batch) == list(range(count))
    return len(plain[1]), len(grouped[1])


async def test_a_busy_group_lingers_for_larger_batches_a_quiet_one_does_not() -> None:
    # Quiet: one item now and then goes at once, alone, lingering or not
    quiet, flushed = recording(0.01, linger=0.05)
    await stream(quiet, 3, every=0.03)
    assert flushed == [[0], [1], [2]]
    # Busy: an item every 2 ms; lingering makes far fewer, larger batches
    eager, patient = await fewer_batches(60, 0.002, recording(0.01), recording(0.01, linger=0.03))
    assert patient * 2 <= eager


async def test_a_cancellation_from_inside_a_flush_fails_its_batch_and_not_the_group() -> None:
    async def flush(items: list[int]) -> None:
        if 13 in items:
            raise asyncio.CancelledError  # as aiormq does to a publish when its connection drops

    group = GroupCommit(flush)
    with pytest.raises(ConnectionError):
        await group.submit(13)
    await group.submit(14)  # the group goes on


async def test_a_stopped_group_leaves_no_submitter_waiting() -> None:
    started = asyncio.Event()

    async def flush(items: list[int]) -> None:
        started.set()
        await asyncio.sleep(3600)

    group = GroupCommit(flush)
    first = asyncio.create_task(group.submit(1))
    await started.wait()
    second = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    assert group._runner is not None
    group._runner.cancel()
    for submitted in (first, second):
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(submitted, 5)



async def test_a_group_gathers_only_items_that_come_close_together() -> None:
    group = GroupCommit(lambda items: asyncio.sleep(0), gather=1.0)
    loop = asyncio.get_running_loop()

    async def latency(item: int) -> float:
        started = loop.time()
        await group.submit(item)
        return loop.time() - started

    assert await latency(0) < 0.5  # the first: alone, it goes at once
    assert await latency(1) >= 0.95  # right after it: a stream, it waits for others
    await asyncio.sleep(0.6)  # more than half of `gather` since the last one
    assert await latency(2) < 0.5  # alone again: at once


async def test_a_steady_stream_is_gathered_into_far_fewer_batches() -> None:
    # An item every 5 ms, each flush (1 ms) over before the next comes: without gathering most
    # go alone; gathered, many at once
    alone, gathered = await fewer_batches(40, 0.005, recording(0.001),
                                          recording(0.001, gather=0.1))
    assert gathered * 3 <= alone


async def test_a_full_batch_stops_gathering() -> None:
    flushed: list[list[int]] = []

    async def flush(items: list[int]) -> None:
        flushed.append(items)

    group = GroupCommit(flush, max_batch=3, gather=30)
    await group.submit(0)  # alone: at once
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(group.submit(n) for n in (1, 2, 3)))  # gathering, until three wait
    assert loop.time() - started < 10
    assert flushed == [[0], [1, 2, 3]]


def test_a_group_of_batches_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda items: asyncio.sleep(0), max_batch=0)
