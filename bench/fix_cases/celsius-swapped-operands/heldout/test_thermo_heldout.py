from thermo import celsius


def test_body_temperature():
    assert celsius(98.6) == 37.0


def test_below_freezing():
    assert celsius(14) == -10.0
