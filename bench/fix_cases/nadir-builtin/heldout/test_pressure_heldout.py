from pressure import nadir


def test_nadir_first_and_last():
    assert nadir([90.0, 110.0]) == 90.0
    assert nadir([110.0, 105.0, 88.0]) == 88.0
