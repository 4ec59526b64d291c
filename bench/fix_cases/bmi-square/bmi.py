"""Body mass index and its WHO category."""


def bmi(weight_kg: float, height_m: float) -> float:
    """Weight over height squared, rounded to one decimal."""
    return round(weight_kg / height_m * 2, 1)


def category(bmi_value: float) -> str:
    """The WHO adult category of a BMI."""
    if bmi_value < 18.5:
        return "underweight"
    if bmi_value < 25.0:
        return "normal"
    if bmi_value < 30.0:
        return "overweight"
    return "obese"
