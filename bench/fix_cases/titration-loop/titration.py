"""Dose titration."""


def titration_steps(start_mg: float, target_mg: float) -> int:
    """Doublings of the starting dose needed to reach the target dose."""
    steps = 0
    dose = start_mg
    while dose <= target_mg:
        dose *= 2
        steps += 1
    return steps
