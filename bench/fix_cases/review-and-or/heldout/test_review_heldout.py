from review import needs_pharmacist_review


def test_young_but_anticoagulated():
    assert needs_pharmacist_review(30, True)


def test_boundary_age():
    assert not needs_pharmacist_review(65, False)
    assert needs_pharmacist_review(66, False)
