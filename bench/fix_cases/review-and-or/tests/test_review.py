from review import is_polypharmacy, needs_pharmacist_review


def test_old_and_anticoagulated():
    assert needs_pharmacist_review(70, True)


def test_young_and_not_anticoagulated():
    assert not needs_pharmacist_review(30, False)


def test_old_only():
    assert needs_pharmacist_review(70, False)


def test_polypharmacy():
    assert is_polypharmacy(["a", "b", "c", "d", "e"])
    assert not is_polypharmacy(["a"])
