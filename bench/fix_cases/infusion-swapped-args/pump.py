"""Infusion pump rates."""

MIN_RATE_ML_H = 5.0
MAX_RATE_ML_H = 250.0


def clamp(value: float, low: float, high: float) -> float:
    """The value, kept between low and high."""
    return max(low, min(value, high))


def infusion_rate(requested_ml_h: float) -> float:
    """The pump rate: the request, kept within the pump's safe range."""
    return clamp(MIN_RATE_ML_H, requested_ml_h, MAX_RATE_ML_H)
