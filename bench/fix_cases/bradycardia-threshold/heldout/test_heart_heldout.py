from heart import is_bradycardic


def test_fifty_nine():
    assert is_bradycardic(59)
    assert not is_bradycardic(60)
