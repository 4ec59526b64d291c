"""Unit conversion for weights."""

LB_PER_KG = 2.20462


def kg_from_lb(pounds: float) -> float:
    """A weight in pounds in kilograms, to one decimal."""
    return round(pounds * LB_PER_KG, 1)


def lb_from_kg(kilograms: float) -> float:
    """A weight in kilograms in pounds, to one decimal."""
    return round(kilograms * LB_PER_KG, 1)
