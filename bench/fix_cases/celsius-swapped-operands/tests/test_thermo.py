from thermo import celsius, fahrenheit


def test_boiling():
    assert celsius(212) == 100.0


def test_freezing():
    assert celsius(32) == 0.0


def test_fahrenheit():
    assert fahrenheit(100) == 212.0
