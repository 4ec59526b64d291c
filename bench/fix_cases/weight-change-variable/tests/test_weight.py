from weight import is_significant_loss, weight_change_pct


def test_loss():
    assert weight_change_pct(100.0, 90.0) == -10.0


def test_no_change():
    assert weight_change_pct(80.0, 80.0) == 0.0


def test_gain():
    assert weight_change_pct(50.0, 55.0) == 10.0


def test_significant_loss():
    assert is_significant_loss(-6.0)
    assert not is_significant_loss(-1.0)
