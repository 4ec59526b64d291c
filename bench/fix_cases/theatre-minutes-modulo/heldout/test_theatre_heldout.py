from theatre import format_minutes


def test_under_an_hour():
    assert format_minutes(45) == "0h45"


def test_long_case():
    assert format_minutes(600) == "10h00"
