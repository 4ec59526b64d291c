from alarm import should_page


def test_boundary():
    assert not should_page(90, False)
    assert should_page(89, False)
