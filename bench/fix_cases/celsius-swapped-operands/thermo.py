"""Temperature conversion."""


def celsius(fahrenheit: float) -> float:
    """Fahrenheit to Celsius, to one decimal."""
    return round((32 - fahrenheit) * 5 / 9, 1)


def fahrenheit(celsius_value: float) -> float:
    """Celsius to Fahrenheit, to one decimal."""
    return round(celsius_value * 9 / 5 + 32, 1)
