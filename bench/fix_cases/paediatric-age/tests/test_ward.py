from ward import is_paediatric, ward_for


def test_child():
    assert is_paediatric(10)


def test_seventeen():
    assert is_paediatric(17)


def test_adult():
    assert not is_paediatric(40)
    assert not is_paediatric(18)


def test_ward_names():
    assert ward_for(40) == "Oak"
