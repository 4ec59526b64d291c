from refills import can_refill, refills_left


def test_after_two():
    assert refills_left(2) == 1


def test_fourth_refuses():
    assert not can_refill(4)
