from cumulative import cumulative_dose_mg, exceeds


def test_no_doses():
    assert cumulative_dose_mg([]) == 0


def test_one_dose():
    assert cumulative_dose_mg([5.0]) == 5.0


def test_two_doses():
    assert cumulative_dose_mg([5.0, 10.0]) == 15.0


def test_exceeds():
    assert exceeds(4001, 4000)
