from queue_order import triage_queue


def test_ties_keep_arrival_order():
    patients = [("cy", 2), ("di", 1), ("ed", 2)]
    assert triage_queue(patients) == ["di", "cy", "ed"]
