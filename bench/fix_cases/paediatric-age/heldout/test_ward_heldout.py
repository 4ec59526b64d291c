from ward import is_paediatric


def test_seventeen_and_a_half():
    assert is_paediatric(17.5)


def test_just_eighteen():
    assert not is_paediatric(18.0)
