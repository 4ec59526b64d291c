from pump import clamp, infusion_rate


def test_normal_rate():
    assert infusion_rate(100.0) == 100.0


def test_low_rate_raised():
    assert infusion_rate(2.0) == 5.0


def test_high_rate_capped():
    assert infusion_rate(300.0) == 250.0


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
