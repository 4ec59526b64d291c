from cumulative import cumulative_dose_mg


def test_many_doses():
    assert cumulative_dose_mg([1.0, 2.0, 3.0, 4.0]) == 10.0
