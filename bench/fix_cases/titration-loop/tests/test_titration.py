from titration import titration_steps


def test_eight_from_one():
    assert titration_steps(1, 8) == 3


def test_already_there():
    assert titration_steps(5, 5) == 0


def test_above_target():
    assert titration_steps(3, 2) == 0


def test_three_from_one():
    assert titration_steps(1, 3) == 2
