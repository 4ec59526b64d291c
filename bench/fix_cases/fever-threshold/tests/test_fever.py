from fever import has_fever, to_celsius


def test_high_temperature_is_fever():
    assert has_fever(39.2)


def test_normal_temperature_is_not_fever():
    assert not has_fever(36.8)


def test_threshold_is_fever():
    assert has_fever(38.0)


def test_just_below_threshold():
    assert not has_fever(37.9)


def test_to_celsius():
    assert to_celsius(212) == 100
