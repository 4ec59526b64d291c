from codes import chapter, normalise_codes


def test_trimmed():
    assert normalise_codes(["A01", " B02 "]) == ["A01", "B02"]


def test_duplicates_dropped():
    assert normalise_codes(["A01", "A01"]) == ["A01"]


def test_upper_case():
    assert normalise_codes(["j45.9"]) == ["J45.9"]


def test_chapter():
    assert chapter("J45.9") == "J"
