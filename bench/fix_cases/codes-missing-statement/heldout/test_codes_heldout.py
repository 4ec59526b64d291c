from codes import normalise_codes


def test_mixed_case_duplicates():
    assert normalise_codes(["e11", "E11", " e11 "]) == ["E11"]
