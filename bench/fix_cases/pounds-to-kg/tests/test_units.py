from units import kg_from_lb, lb_from_kg


def test_zero():
    assert kg_from_lb(0) == 0


def test_hundred_kilograms():
    assert kg_from_lb(220.462) == 100.0


def test_lb_from_kg():
    assert lb_from_kg(100) == 220.5
