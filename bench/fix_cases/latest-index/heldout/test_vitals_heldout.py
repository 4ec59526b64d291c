from vitals import latest


def test_latest_of_two():
    assert latest([4.0, 8.0]) == 8.0
