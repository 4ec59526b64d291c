from units import kg_from_lb


def test_neonate():
    assert kg_from_lb(7.7) == 3.5
