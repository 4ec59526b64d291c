from fever import has_fever


def test_exact_threshold():
    assert has_fever(38.0)


def test_around_threshold():
    assert has_fever(38.05)
    assert not has_fever(37.99)


def test_very_high():
    assert has_fever(41.5)
