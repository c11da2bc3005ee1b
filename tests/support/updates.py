"""A MongoDB update document applied to a plain dict, for tests of pure transitions.

Only what the state machine uses: $set and $unset of dotted paths (array indexes included),
$inc, $min, $max and $currentDate.
"""

import copy
from datetime import UTC, datetime
from typing import Any


def _walk(doc: dict, path: str) -> tuple[Any, str | int]:
    parts = path.split(".")
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    return node, int(last) if isinstance(node, list) else last


def _put(node: Any, key: str | int, value: Any) -> None:
    if isinstance(node, list) and key == len(node):
        node.append(value)  # MongoDB: setting the index past the end appends
    else:
        node[key] = value


def apply_update(doc: dict, update: dict, now: datetime | None = None) -> dict:
    out = copy.deepcopy(doc)
    for path, value in update.get("$set", {}).items():
        _put(*_walk(out, path), copy.deepcopy(value))
    for path in update.get("$unset", {}):
        node, key = _walk(out, path)
        if isinstance(node, dict):
            node.pop(key, None)
    for path, amount in update.get("$inc", {}).items():
        node, key = _walk(out, path)
        node[key] = (node.get(key, 0) if isinstance(node, dict) else node[key]) + amount
    for op, pick in (("$min", min), ("$max", max)):
        for path, value in update.get(op, {}).items():
            node, key = _walk(out, path)
            node[key] = value if node.get(key) is None else pick(node[key], value)
    for path in update.get("$currentDate", {}):
        _put(*_walk(out, path), now or datetime.now(UTC))
    unknown = set(update) - {"$set", "$unset", "$inc", "$min", "$max", "$currentDate"}
    assert not unknown, f"not supported here: {unknown}"
    return out
