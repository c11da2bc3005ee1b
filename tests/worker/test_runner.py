import asyncio
import sys
import time

import pytest
from jobrunner_worker.runner import LineSplitter, Runner, base_environment


def runner(collected, **kwargs) -> Runner:
    kwargs.setdefault("kill_grace_seconds", 2)
    return Runner(on_line=collected, **kwargs)


async def test_exit_zero_is_succeeded_and_pid_is_reported(collected):
    pids = []
    outcome = await runner(collected, command="echo hello", on_started=pids.append).run()
    assert (outcome.status, outcome.exit_code) == ("succeeded", 0)
    assert len(pids) == 1 and pids[0] > 0
    assert collected.lines == [(1, "stdout", "hello")]


async def test_nonzero_exit_is_failed_with_the_code(collected):
    outcome = await runner(collected, command="exit 3").run()
    assert (outcome.status, outcome.exit_code) == ("failed", 3)


async def test_death_by_signal_reports_128_plus_signal(collected):
    outcome = await runner(collected, argv=["sh", "-c", "kill -9 $$"]).run()
    assert (outcome.status, outcome.exit_code) == ("failed", 137)


async def test_argv_runs_without_a_shell(collected):
    outcome = await runner(collected, argv=["echo", "$HOME", "a  b"]).run()
    assert outcome.status == "succeeded"
    assert collected.texts() == ["$HOME a  b"]


async def test_env_is_added_to_the_worker_environment(collected, monkeypatch):
    monkeypatch.setenv("FROM_WORKER", "w")
    monkeypatch.setenv("API_KEY", "the-worker-key")
    await runner(collected, command='echo "$FROM_WORKER $FROM_JOB [$API_KEY]"', env={"FROM_JOB": "j"}).run()
    assert collected.texts() == ["w j []"]  # the worker's own key is not handed to jobs


async def test_a_given_base_environment_is_used_instead_of_reading_the_worker_s(collected,
                                                                              monkeypatch):
    monkeypatch.setenv("FROM_WORKER", "read-now")
    await runner(collected, command='echo "[$FROM_WORKER] $FROM_BASE $FROM_JOB"',
                 base_env={"FROM_BASE": "b", "PATH": "/usr/bin:/bin"},
                 env={"FROM_JOB": "j"}).run()
    assert collected.texts() == ["[] b j"]


def test_base_environment_leaves_out_the_worker_s_key(monkeypatch):
    monkeypatch.setenv("API_KEY", "the-worker-key")
    monkeypatch.setenv("FROM_WORKER", "w")
    env = base_environment()
    assert "API_KEY" not in env and env["FROM_WORKER"] == "w"


async def test_missing_program_fails_with_127_and_says_why(collected):
    outcome = await runner(collected, argv=["/nonexistent/program", "x"]).run()
    assert (outcome.status, outcome.exit_code) == ("failed", 127)
    assert "/nonexistent/program" in outcome.error
    assert collected.lines[0][0:2] == (1, "stderr")
    assert "cannot start" in collected.lines[0][2]


async def test_stdout_and_stderr_both_captured_with_one_increasing_seq(collected):
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.02; done"
    await runner(collected, command=script).run()
    assert [seq for seq, _, _ in collected.lines] == [1, 2, 3, 4, 5, 6]
    assert collected.texts("stdout") == ["out1", "out2", "out3"]
    assert collected.texts("stderr") == ["err1", "err2", "err3"]
    # the sleeps force the interleaving: each out line was read before the matching err line
    assert [t for _, _, t in collected.lines] == ["out1", "err1", "out2", "err2", "out3", "err3"]


async def test_100k_lines_are_all_captured_in_order(collected):
    outcome = await runner(collected, argv=["seq", "1", "100000"]).run()
    assert outcome.status == "succeeded"
    assert collected.texts() == [str(i) for i in range(1, 100001)]
    assert [seq for seq, _, _ in collected.lines] == list(range(1, 100001))


async def test_final_line_without_newline_and_invalid_utf8_are_kept(collected):
    await runner(collected, argv=[sys.executable, "-c", r"import sys; sys.stdout.buffer.write(b'ok\xff\nlast')"]).run()
    assert collected.texts() == ["ok\ufffd", "last"]


async def test_a_5_mib_line_is_split_into_max_line_bytes_pieces(collected):
    code = "import sys; sys.stdout.write('x' * (5 * 1024 * 1024) + '\\nafter\\n')"
    outcome = await runner(collected, argv=[sys.executable, "-c", code], max_line_bytes=64 * 1024).run()
    assert outcome.status == "succeeded"
    texts = collected.texts()
    assert len(texts) == 81
    assert all(len(t) == 64 * 1024 for t in texts[:80])
    assert texts[80] == "after"


def test_splitting_never_cuts_a_utf8_character():
    pieces = []
    splitter = LineSplitter(16, pieces.append)
    splitter.feed(("é" * 20 + "\n").encode())  # 40 bytes of 2-byte characters
    assert "".join(pieces) == "é" * 20
    assert all(len(p.encode()) <= 16 and "\ufffd" not in p for p in pieces)


@pytest.mark.parametrize("writes", [[b"__________"], [b"_" * n for n in (3, 3, 4)]])
def test_a_chain_of_overlapping_values_is_cut_where_it_ends(writes):
    # Found by hypothesis: "__" five times over, 8 bytes a piece, was cut after 9 bytes, and the
    # "_" left at the end of the first piece made "__" with the next one
    pieces = []
    splitter = LineSplitter(8, pieces.append, keep_whole=["__"])
    for write in writes:
        splitter.feed(write)
    splitter.close()
    assert pieces == ["_" * 10]


async def test_timeout_kills_the_whole_process_tree(collected, gone):
    # Given a job that starts a background child which ignores nothing and would outlive it
    script = "sleep 60 & echo $!; sleep 60"
    started = time.monotonic()
    outcome = await runner(collected, command=script, timeout_seconds=0.5).run()
    # Then the job is reported timed out well before the sleeps end
    assert outcome.status == "timed_out" and outcome.exit_code is None
    assert time.monotonic() - started < 5
    child = int(collected.texts("stdout")[0])
    assert gone(child)


async def test_term_is_followed_by_kill_after_the_grace_period(collected, gone):
    script = "trap '' TERM; sleep 60 & echo $!; wait"
    started = time.monotonic()
    outcome = await runner(collected, command=script, timeout_seconds=0.3, kill_grace_seconds=0.5).run()
    elapsed = time.monotonic() - started
    assert outcome.status == "timed_out"
    assert 0.7 < elapsed < 5  # it waited the grace period, then killed
    assert gone(int(collected.texts("stdout")[0]))


async def test_cancel_ends_the_attempt_and_its_children(collected, gone):
    r = runner(collected, command="sleep 60 & echo $!; sleep 60")
    task = asyncio.create_task(r.run())
    while not collected.lines:
        await asyncio.sleep(0.01)
    r.cancel()
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.status == "cancelled"
    assert gone(int(collected.texts()[0]))


async def test_leftover_background_process_is_cleaned_up_after_normal_exit(collected, gone):
    outcome = await runner(collected, command="sleep 60 >/dev/null 2>&1 & echo $!").run()
    assert outcome.status == "succeeded"
    assert gone(int(collected.texts()[0]))


async def test_cancelling_the_task_still_kills_the_group(collected, gone):
    r = runner(collected, command="echo $$; sleep 60")
    task = asyncio.create_task(r.run())
    while not collected.lines:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 3
    while not gone(r.pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert gone(r.pid)
