from bmi import bmi


def test_bmi_other_heights():
    assert bmi(70.0, 1.75) == 22.9
    assert bmi(50.0, 1.6) == 19.5
