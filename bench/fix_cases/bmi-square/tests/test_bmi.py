from bmi import bmi, category

HEIGHT_M = 2.0  # the test patient's height


def test_bmi_normal_weight():
    assert bmi(80.0, HEIGHT_M) == 20.0


def test_bmi_heavy():
    assert bmi(120.0, HEIGHT_M) == 30.0


def test_category_underweight():
    assert category(17.0) == "underweight"


def test_category_normal():
    assert category(22.0) == "normal"


def test_category_obese():
    assert category(31.0) == "obese"
