from theatre import format_minutes, to_minutes


def test_two_hours_fifteen():
    assert format_minutes(135) == "2h15"


def test_zero():
    assert format_minutes(0) == "0h00"


def test_to_minutes():
    assert to_minutes(2, 15) == 135
