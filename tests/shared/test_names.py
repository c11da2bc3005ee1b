"""Routing: one queue per tenant and label set, the same whatever the label order."""

from jobrunner_shared import names


def test_the_same_label_set_maps_to_the_same_queue() -> None:
    assert names.dispatch_queue("t1", ["b", "a"]) == names.dispatch_queue("t1", ["a", "b", "a"])


def test_tenants_and_label_sets_get_separate_queues() -> None:
    queues = {
        names.dispatch_queue("t1", []),
        names.dispatch_queue("t2", []),
        names.dispatch_queue("t1", ["gpu"]),
        names.dispatch_queue("t1", ["gpu", "linux"]),
    }
    assert len(queues) == 4


def test_the_routing_key_and_queue_carry_the_same_label_set_key() -> None:
    key = names.labelset_key(["gpu"])
    assert names.dispatch_queue("t", ["gpu"]).endswith(f".t.{key}")
    assert names.dispatch_routing_key("t", ["gpu"]) == f"{names.DISPATCH_KEY_PREFIX}.t.{key}"
    assert names.labelset_key([]) == "any"
