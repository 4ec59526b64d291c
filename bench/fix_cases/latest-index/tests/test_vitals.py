from vitals import count_high, latest


def test_latest_of_three():
    assert latest([1.0, 2.0, 3.0]) == 3.0


def test_latest_single():
    assert latest([7.0]) == 7.0


def test_count_high():
    assert count_high([1.0, 5.0, 9.0], 4.0) == 2
