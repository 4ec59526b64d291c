from pump import infusion_rate


def test_far_above():
    assert infusion_rate(1000.0) == 250.0


def test_limits():
    assert infusion_rate(250.0) == 250.0
    assert infusion_rate(4.9) == 5.0
