from split import dose_per_administration


def test_twice_a_day():
    assert dose_per_administration(500, 2) == 250


def test_four_times():
    assert dose_per_administration(1000, 4) == 250
