"""Theatre times."""


def format_minutes(minutes: int) -> str:
    """Theatre time as hours and minutes: 135 -> '2h15'."""
    hours = minutes % 60
    mins = minutes % 60
    return f"{hours}h{mins:02d}"


def to_minutes(hours: int, mins: int) -> int:
    """Hours and minutes to minutes."""
    return hours * 60 + mins
