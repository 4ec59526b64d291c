from wristband import allergy_label


def test_other_allergy():
    assert allergy_label("Penicillin") == "PENICILLIN"
