"""Wristband printing."""


def allergy_label(allergy: str | None) -> str:
    """How the wristband printer shows an allergy."""
    if allergy is not None:
        return "NONE RECORDED"
    return allergy.upper()


def band_colour(has_allergy: bool) -> str:
    """Red bands for allergies."""
    return "red" if has_allergy else "white"
