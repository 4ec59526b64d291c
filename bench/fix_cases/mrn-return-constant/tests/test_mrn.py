from mrn import format_mrn, is_valid_mrn


def test_valid():
    assert is_valid_mrn("12345678")


def test_too_short():
    assert not is_valid_mrn("123")


def test_letters():
    assert not is_valid_mrn("1234567A")


def test_format():
    assert format_mrn("12345678") == "1234-5678"
