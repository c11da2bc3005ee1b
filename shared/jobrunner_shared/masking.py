"""Which strings stand for a secret in output: the master computes `mask`, the worker applies it.

The worker masks output line by line, so a value spanning several lines never appears whole in
one line. What is masked, then:
- every value whole, and without the line breaks around it (a value set with `echo` ends in one);
- each line of a multi-line value, stripped, when it has at least MIN_LINE_CHARS characters.
  Why not shorter ones: masking every `}` or `ok` of the output (a PEM's or a JSON's short
  lines) would destroy the log and protect nothing.
Pure Python, imported by the worker.
"""

from collections.abc import Iterable

MASK = "***"
MIN_LINE_CHARS = 4


def mask_values(values: Iterable[str]) -> list[str]:
    """The strings to replace with `***`, longest first so that none leaks in part."""
    parts: set[str] = set()
    for value in values:
        if not value:
            continue
        parts.add(value)
        core = value.strip("\r\n")
        if core:
            parts.add(core)
        lines = core.splitlines()
        if len(lines) > 1:
            parts.update(s for line in lines if len(s := line.strip()) >= MIN_LINE_CHARS)
    return sorted(parts, key=lambda part: (-len(part), part))
