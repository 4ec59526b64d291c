from queue_order import triage_queue, waiting


def test_sorted_by_category():
    assert triage_queue([("ann", 3), ("bob", 1)]) == ["bob", "ann"]


def test_already_in_order():
    assert triage_queue([("ann", 1), ("bob", 2)]) == ["ann", "bob"]


def test_waiting():
    assert waiting([("ann", 1)]) == 1
