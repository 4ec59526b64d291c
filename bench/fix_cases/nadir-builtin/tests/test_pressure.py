from pressure import mean_arterial, nadir


def test_nadir():
    assert nadir([120.0, 95.0, 130.0]) == 95.0


def test_single_reading():
    assert nadir([100.0]) == 100.0


def test_mean_arterial():
    assert mean_arterial(120.0, 80.0) == 93.3
