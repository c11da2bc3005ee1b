"""MongoDB update documents, as the state machine writes them: applied to a job in memory, and
several of one job merged into one.

Only what transitions.py uses: `$set` and `$unset` of dotted paths (array indexes included)
and `$inc`. Why in memory: a batch of events is decided in this process and written with one
`bulk_write`, which answers counts, not documents; the job after it is computed here, exactly
as MongoDB applies the same update (tests/api/test_updates.py checks both agree).
"""

import copy
from datetime import datetime
from enum import Enum
from typing import Any

from bson import ObjectId

OPERATORS = frozenset({"$set", "$unset", "$inc"})
# Values shared as they are: nothing can change them.
IMMUTABLE = frozenset({str, int, float, bool, type(None), datetime, ObjectId})


def _walk(doc: dict, path: str, owned: set[int], parents: dict[str, Any]
          ) -> tuple[Any, str | int]:
    """The container holding `path`'s last part, and that part. Each container on the way is
    copied the first time it is walked (`owned`: the ones copied already): the result shares
    what the update does not touch with the input, which is never changed. `parents`: the
    containers found so far by their paths (an attempt's ten fields are one walk, not ten;
    none of them is replaced later in the update: MongoDB refuses a path inside another)."""
    parent, dot, last = path.rpartition(".")
    if not dot:
        return doc, path  # a top-level field: `doc` is the copy, owned already
    node = parents.get(parent)
    if node is None:
        node = doc
        for part in parent.split("."):
            key: str | int = int(part) if isinstance(node, list) else part
            if isinstance(node, dict) and key not in node:
                child = {}  # as MongoDB: a missing parent is made
            elif id(child := node[key]) not in owned:
                child = child.copy()  # a dict or a list
            owned.add(id(child))
            node[key] = child
            node = child
        parents[parent] = node
    return node, int(last) if isinstance(node, list) else last


def _copy(value: Any) -> Any:
    """`value`, its dicts and lists copied; what cannot change shared (copy.deepcopy rebuilds
    every datetime, which cost more than the rest of applying an update)."""
    if type(value) in IMMUTABLE or isinstance(value, Enum):  # an enum member is one constant
        return value
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return copy.deepcopy(value)


def _put(node: Any, key: str | int, value: Any) -> None:
    if isinstance(node, list) and key == len(node):
        node.append(value)  # as MongoDB: setting the index just past the end appends
    else:
        node[key] = value


def apply_update(doc: dict, update: dict) -> dict:
    """The document after `update`, as MongoDB would make it: a new document (sharing with
    `doc` what the update leaves alone; neither is changed afterwards by this module)."""
    unknown = set(update) - OPERATORS
    if unknown:
        raise ValueError(f"not supported here: {sorted(unknown)}")
    # Why not a deep copy of the whole job: only the containers on the updated paths change.
    out = dict(doc)
    owned = {id(out)}
    parents: dict[str, Any] = {}
    for path, value in update.get("$set", {}).items():
        _put(*_walk(out, path, owned, parents), _copy(value))
    for path in update.get("$unset", {}):
        node, key = _walk(out, path, owned, parents)
        if isinstance(node, dict):
            node.pop(key, None)
    for path, amount in update.get("$inc", {}).items():
        node, key = _walk(out, path, owned, parents)
        node[key] = (node.get(key, 0) if isinstance(node, dict) else node[key]) + amount
    return out


def merge(updates: list[dict]) -> dict | None:
    """One update doing what `updates` do one after the other, or None when MongoDB would
    refuse it (one path inside another, e.g. a new `attempts.1` and then `attempts.1.status`)."""
    sets: dict[str, Any] = {}
    unsets: set[str] = set()
    incs: dict[str, int] = {}
    for update in updates:
        if set(update) - OPERATORS:
            return None
        for path, value in update.get("$set", {}).items():
            sets[path] = value
            unsets.discard(path)
        for path in update.get("$unset", {}):
            unsets.add(path)
            sets.pop(path, None)
        for path, amount in update.get("$inc", {}).items():
            incs[path] = incs.get(path, 0) + amount
    paths = sorted([*sets, *unsets, *incs])
    if len(paths) != len(set(paths)) or any(
            later.startswith(earlier + ".") for earlier, later in zip(paths, paths[1:])):
        return None
    merged: dict[str, Any] = {}
    if sets:
        merged["$set"] = sets
    if unsets:
        merged["$unset"] = {path: "" for path in sorted(unsets)}
    if incs:
        merged["$inc"] = incs
    return merged
