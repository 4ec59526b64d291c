from readings import last_readings, mean


def test_last_two():
    assert last_readings([98.0, 97.5, 99.1, 98.4], 2) == [99.1, 98.4]


def test_mean():
    assert mean([1.0, 2.0, 3.0]) == 2.0


def test_mean_single():
    assert mean([5.0]) == 5.0
