from refills import can_refill, refills_left


def test_first_refill():
    assert can_refill(0)


def test_third_refill():
    assert can_refill(2)


def test_no_more():
    assert not can_refill(3)


def test_left_at_start():
    assert refills_left(0) == 3


def test_left_never_negative():
    assert refills_left(5) == 0
