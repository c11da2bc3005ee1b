import os

import pytest


def process_gone(pid: int) -> bool:
    """True when the process no longer exists (or is only a zombie waiting for its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class Collected:
    """A line sink for the runner: remembers every (seq, stream, text)."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str, str]] = []

    def __call__(self, seq: int, stream: str, text: str) -> None:
        self.lines.append((seq, stream, text))

    def texts(self, stream: str | None = None) -> list[str]:
        return [text for _, s, text in self.lines if stream in (None, s)]


@pytest.fixture
def gone():
    return process_gone


@pytest.fixture
def collected() -> Collected:
    return Collected()
