from allergies import collect_allergies


def test_three_records_with_duplicates():
    records = [{"allergies": ["latex"]}, {}, {"allergies": ["latex", "nuts"]}]
    assert collect_allergies(records) == ["latex", "nuts"]


def test_first_record_kept():
    assert collect_allergies([{"allergies": ["iodine"]}, {}]) == ["iodine"]
