"""Updates applied in memory and merged: what the batch path writes and caches."""

from datetime import UTC, datetime

from jobrunner_api.updates import apply_update, merge


def test_an_update_sets_unsets_increments_and_appends_by_index() -> None:
    doc = {"v": 1, "lease": {"worker": "w"}, "attempts": [{"status": "running"}]}
    after = apply_update(doc, {"$set": {"attempts.0.status": "failed",
                                        "attempts.1": {"status": "queued"}},
                               "$unset": {"lease": ""}, "$inc": {"v": 1}})
    assert after == {"v": 2, "attempts": [{"status": "failed"}, {"status": "queued"}]}
    assert doc["lease"] == {"worker": "w"}  # a copy: the original is left as it was


def test_the_original_is_never_changed_even_where_the_update_writes_inside_it() -> None:
    # Given a job whose nested parts the update writes into (only those are copied)
    doc = {"v": 1, "env": {"A": "1"},
           "attempts": [{"status": "running", "lines": [1]}, {"status": "queued"}]}
    before = {"v": 1, "env": {"A": "1"},
              "attempts": [{"status": "running", "lines": [1]}, {"status": "queued"}]}
    # When the first attempt is ended, counted, and given a new nested field
    after = apply_update(doc, {"$set": {"attempts.0.status": "failed", "attempts.0.x.y": 1},
                               "$inc": {"attempts.0.n": 2, "v": 1}})
    # Then the result has every change, and the original none of them
    assert after == {"v": 2, "env": {"A": "1"},
                     "attempts": [{"status": "failed", "lines": [1], "x": {"y": 1}, "n": 2},
                                  {"status": "queued"}]}
    assert doc == before
    # And a second update of the result leaves the first result as it was
    again = apply_update(after, {"$set": {"attempts.1.status": "running"}})
    assert after["attempts"][1] == {"status": "queued"}
    assert again["attempts"][1] == {"status": "running"}


def test_the_values_set_are_copied_so_the_update_and_the_result_never_share_a_container(
) -> None:
    # Given an update setting a nested value (a lease, a new attempt with a list in it)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    lease = {"worker": "w", "expires_at": at}
    attempt = {"status": "queued", "tags": ["a"]}
    update = {"$set": {"lease": lease, "attempts.0": attempt}}
    after = apply_update({"attempts": []}, update)
    # When either side is changed afterwards
    lease["worker"] = "other"
    attempt["tags"].append("b")
    after["attempts"][0]["status"] = "running"
    # Then the other is not: only what cannot change (a datetime) is shared
    assert after == {"lease": {"worker": "w", "expires_at": at},
                     "attempts": [{"status": "running", "tags": ["a"]}]}
    assert update["$set"]["attempts.0"] == {"status": "queued", "tags": ["a", "b"]}
    assert after["lease"]["expires_at"] is at


def test_merged_updates_do_what_they_did_one_after_the_other() -> None:
    doc = {"v": 1, "status": "queued", "attempts": [{"status": "queued"}]}
    first = {"$set": {"status": "running", "lease": {"worker": "w"}}, "$inc": {"v": 1}}
    second = {"$set": {"status": "succeeded"}, "$unset": {"lease": ""}, "$inc": {"v": 1}}
    one_by_one = apply_update(apply_update(doc, first), second)
    assert apply_update(doc, merge([first, second])) == one_by_one
    assert one_by_one["v"] == 3 and "lease" not in one_by_one


def test_updates_mongodb_would_refuse_together_are_not_merged() -> None:
    # a new attempt set whole, then one of its fields: one path inside the other
    new_attempt = {"$set": {"attempts.1": {"status": "queued"}}}
    then_started = {"$set": {"attempts.1.status": "running"}}
    assert merge([new_attempt, then_started]) is None
    assert merge([{"$push": {"x": 1}}]) is None
