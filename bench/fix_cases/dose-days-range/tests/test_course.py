from course import dose_days, total_doses


def test_five_day_course():
    assert dose_days(1, 5) == [1, 2, 3, 4, 5]


def test_total_doses():
    assert total_doses(5, 3) == 15


def test_no_doses():
    assert total_doses(0, 3) == 0
