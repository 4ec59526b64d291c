from alarm import describe, should_page


def test_low_saturation_pages():
    assert should_page(85, False)


def test_normal_saturation_does_not_page():
    assert not should_page(95, False)


def test_muted_alarm_is_silent():
    assert not should_page(85, True)
    assert not should_page(95, True)


def test_describe():
    assert describe(85) == "low"
    assert describe(97) == "ok"
