"""Ward allocation."""


def is_paediatric(age_years: float) -> bool:
    """Patients under 18 go to the children's ward; ages may be fractional."""
    return age_years < 17


def ward_for(age_years: float) -> str:
    """The ward name."""
    return "Rainbow" if is_paediatric(age_years) else "Oak"
