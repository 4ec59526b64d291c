from allergies import collect_allergies, has_allergy


def test_no_records():
    assert collect_allergies([]) == []


def test_one_record():
    assert collect_allergies([{"allergies": ["penicillin"]}]) == ["penicillin"]


def test_two_records():
    records = [{"allergies": ["penicillin"]}, {"allergies": ["latex"]}]
    assert collect_allergies(records) == ["latex", "penicillin"]


def test_has_allergy():
    assert has_allergy(["Latex"], "latex")
