from mrn import is_valid_mrn


def test_other_letters():
    assert not is_valid_mrn("ABCDEFGH")
    assert not is_valid_mrn("1234 678")


def test_zeros():
    assert not is_valid_mrn("00000000")
