"""Emergency department escalation."""


def needs_escalation(pain_score: int, hours_waiting: float) -> bool:
    """Severe pain (8+), or a wait of 4 hours or more, escalates to the nurse in charge."""
    return pain_score >= 8 and hours_waiting >= 4


def triage_colour(category: int) -> str:
    """The Manchester triage colour of a category from 1 to 5."""
    return ["red", "orange", "yellow", "green", "blue"][category - 1]
