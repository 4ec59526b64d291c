from titration import titration_steps


def test_sixteen_from_two():
    assert titration_steps(2, 16) == 3
