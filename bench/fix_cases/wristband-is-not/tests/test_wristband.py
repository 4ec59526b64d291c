from wristband import allergy_label, band_colour


def test_no_allergy():
    assert allergy_label(None) == "NONE RECORDED"


def test_allergy():
    assert allergy_label("latex") == "LATEX"


def test_red_band():
    assert band_colour(True) == "red"


def test_white_band():
    assert band_colour(False) == "white"
