"""The outbox's tail on disk: events put past the memory budget, read back in the same order.

Append-only segment files of JSON lines, one file per `segment_bytes`. An entry read back
keeps a reference to its segment; a segment is deleted once it is complete (a newer one was
started) and every entry in it has been acknowledged. What is read back is the same JSON
value that was put, so a resend stays byte for byte the same.

Durability against a crash is not the point (a restarted worker has a new identity and does
not read its predecessor's files): the disk only keeps the worker's memory bounded. Hence no
fsync, and a directory per process, removed by `close()`.
"""

import json
import logging
import os
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

SEGMENT_BYTES = 8 * 1024 * 1024


@dataclass(eq=False)
class Segment:
    path: Path
    written: int = 0  # entries appended
    read: int = 0  # entries handed back to the outbox
    acked: int = 0  # of those, acknowledged by the master
    size: int = 0  # bytes in the file
    unread_bytes: int = 0  # payload bytes (as the outbox counts them) not read back yet
    complete: bool = False  # a newer segment was started: nothing more is appended here


class SpillStore:
    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.bytes = 0  # payload bytes not read back yet (as the outbox counts them)
        self._segments: deque[Segment] = deque()  # not fully read back yet, oldest first
        self._count = 0
        self._writer: IO[bytes] | None = None
        self._reader: IO[bytes] | None = None
        # When the disk fails (full, not writable) entries wait here instead: order matters
        # more than the memory bound, and losing them would break "no lost line".
        self._unwritten: deque[tuple[str, dict[str, Any], int]] = deque()

    def __len__(self) -> int:
        return sum(s.written - s.read for s in self._segments) + len(self._unwritten)

    def append(self, event: str, data: dict[str, Any], size: int) -> None:
        if not self._unwritten:
            try:
                self._write(json.dumps({"event": event, "data": data}).encode() + b"\n", size)
                self.bytes += size
                return
            except OSError as exc:
                if self._segments:  # a partial line may be at its end: never append after it
                    self._finish_writing(self._segments[-1])
                log.error("cannot spill to %s (%s): keeping events in memory", self.directory, exc)
        self._unwritten.append((event, data, size))
        self.bytes += size

    def _write(self, line: bytes, size: int) -> None:
        segment = self._segments[-1] if self._segments else None
        if segment is None or segment.complete or segment.size >= self.segment_bytes:
            if segment is not None:
                self._finish_writing(segment)
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._count += 1
            segment = Segment(self.directory / f"{self._count:08d}.jsonl")
            self._writer = segment.path.open("ab")
            self._segments.append(segment)
        assert self._writer is not None
        # Synchronous on purpose: one batch (a few hundred KiB at most) to a local file is quick.
        self._writer.write(line)
        self._writer.flush()  # the reader uses its own handle
        segment.size += len(line)
        segment.unread_bytes += size
        segment.written += 1

    def pop(self) -> tuple[str, dict[str, Any], int, Segment | None] | None:
        """The oldest entry not read back yet, with its segment (None: it was never on disk)."""
        while self._segments:
            segment = self._segments[0]
            if segment.read == segment.written:
                # Read to the end: the next append starts a new file, this one can go once acked.
                self._finish_writing(segment)
                self._segments.popleft()
                self._close_reader()
                self._maybe_delete(segment)
                continue
            try:
                if self._reader is None:
                    self._reader = segment.path.open("rb")
                record = json.loads(self._reader.readline())
                event, data = record["event"], record["data"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                lost = segment.written - segment.read
                log.error("lost %d outbox events: %s unreadable (%r)", lost, segment.path, exc)
                segment.read = segment.written
                segment.acked += lost
                self.bytes -= segment.unread_bytes
                segment.unread_bytes = 0
                continue
            size = len(json.dumps(data))
            segment.read += 1
            segment.unread_bytes -= size
            self.bytes -= size
            return event, data, size, segment
        if self._unwritten:
            event, data, size = self._unwritten.popleft()
            self.bytes -= size
            return event, data, size, None
        return None

    def acked(self, segment: Segment) -> None:
        segment.acked += 1
        self._maybe_delete(segment)

    def close(self) -> None:
        self._close_reader()
        if self._writer is not None:
            self._writer.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _finish_writing(self, segment: Segment) -> None:
        segment.complete = True
        if self._writer is not None and self._segments and segment is self._segments[-1]:
            self._writer.close()
            self._writer = None

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _maybe_delete(self, segment: Segment) -> None:
        if segment.complete and segment.acked == segment.written:
            try:
                os.unlink(segment.path)
            except OSError as exc:
                log.debug("cannot delete %s: %r", segment.path, exc)
