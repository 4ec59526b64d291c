from escalation import needs_escalation, triage_colour


def test_severe_pain_and_long_wait():
    assert needs_escalation(9, 5)


def test_mild_pain_short_wait():
    assert not needs_escalation(2, 1)
    assert not needs_escalation(3, 2)


def test_severe_pain_short_wait():
    assert needs_escalation(9, 1)


def test_triage_colour():
    assert triage_colour(1) == "red"
    assert triage_colour(5) == "blue"
