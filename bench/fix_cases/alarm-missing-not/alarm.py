"""Pulse oximetry alarms."""

ALERT_SPO2 = 90


def should_page(spo2: int, muted: bool) -> bool:
    """Page the nurse when saturation drops below 90%, unless the alarm is muted."""
    if muted:
        return spo2 < ALERT_SPO2
    return False


def describe(spo2: int) -> str:
    """A label for the monitor."""
    return "low" if spo2 < ALERT_SPO2 else "ok"
