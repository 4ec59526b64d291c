from weight import weight_change_pct


def test_small_loss():
    assert weight_change_pct(80.0, 76.0) == -5.0


def test_big_gain():
    assert weight_change_pct(40.0, 60.0) == 50.0
