from split import daily_total, dose_per_administration


def test_three_times_a_day():
    assert dose_per_administration(600, 3) == 200


def test_once_a_day():
    assert dose_per_administration(100, 1) == 100


def test_nothing():
    assert dose_per_administration(0, 4) == 0


def test_daily_total():
    assert daily_total(200, 3) == 600
