"""What the commands print: Rich tables (colour in a terminal, plain aligned text in a pipe),
JSON as the API sent it, and output lines of jobs."""

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

STATUS_STYLES = {
    "queued": "dim",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "timed_out": "magenta",
    "cancelled": "yellow",
    "online": "green",
    "offline": "dim",
    "draining": "yellow",
}

Cell = str | int | float | Text | None


def is_terminal() -> bool:
    return sys.stdout.isatty()


def console() -> Console:
    """stdout as it is now (the tests replace sys.stdout): Rich reads it at each write."""
    return Console(highlight=False)


def cell(value: Cell, style: str | None = None) -> Text:
    if isinstance(value, Text):
        return value
    # Text, never a markup string: a job's command may well contain "[red]".
    return Text("-" if value is None or value == "" else str(value), style=style or "")


def status(value: str | None) -> Text:
    return cell(value, STATUS_STYLES.get(value or ""))


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """A table of one line per row. In a pipe: no colour, no borders, never wrapped."""
    rows = [[cell(value) for value in row] for row in rows]
    if is_terminal():
        grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for header in headers:
            grid.add_column(header, overflow="fold")
        for row in rows:
            grid.add_row(*row)
        console().print(grid)
        return
    grid = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0),
                 header_style=None)
    for header in headers:
        grid.add_column(header, no_wrap=True, overflow="ignore")
    for row in rows:
        grid.add_row(*[Text(text.plain) for text in row])
    plain = Console(width=1_000_000, highlight=False, color_system=None)
    with plain.capture() as captured:
        plain.print(grid)
    for line in captured.get().splitlines():
        sys.stdout.write(line.rstrip() + "\n")


def fields(pairs: Iterable[tuple[str, Cell]]) -> None:
    """`name  value` lines, for one object (`jobs show`)."""
    pairs = list(pairs)
    width = max((len(name) for name, _ in pairs), default=0)
    out = console()
    for name, value in pairs:
        line = Text(f"{name + ':':<{width + 1}}  ", style="bold" if is_terminal() else "")
        line.append_text(cell(value))
        out.print(line, soft_wrap=True)


def print_json(data: Any) -> None:
    """The API's JSON, pretty."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def note(message: str) -> None:
    """A remark for the person at the terminal (stderr), never part of the output proper."""
    sys.stderr.write(message + "\n")


def when(value: str | None) -> str:
    """An API timestamp in local time, to the second."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_lines(lines: Iterable[dict[str, Any]]) -> None:
    """A job's output lines: stdout lines to stdout, stderr lines to stderr, as they came."""
    for line in lines:
        out = sys.stderr if line.get("stream") == "stderr" else sys.stdout
        out.write(str(line.get("text", "")) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
