from heart import is_bradycardic, is_tachycardic


def test_slow():
    assert is_bradycardic(45)


def test_normal():
    assert not is_bradycardic(72)


def test_borderline_slow():
    assert is_bradycardic(55)


def test_tachycardia():
    assert is_tachycardic(120)
    assert not is_tachycardic(80)
