from course import dose_days


def test_single_day_course():
    assert dose_days(7, 7) == [7]


def test_later_start():
    assert dose_days(10, 12) == [10, 11, 12]
