from readings import last_readings


def test_last_one():
    assert last_readings([1.0, 2.0, 3.0], 1) == [3.0]


def test_all_of_them():
    assert last_readings([1.0, 2.0, 3.0], 3) == [1.0, 2.0, 3.0]
