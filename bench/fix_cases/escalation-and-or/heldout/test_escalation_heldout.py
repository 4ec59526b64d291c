from escalation import needs_escalation


def test_long_wait_alone():
    assert needs_escalation(2, 6)


def test_exactly_four_hours():
    assert needs_escalation(2, 4)
