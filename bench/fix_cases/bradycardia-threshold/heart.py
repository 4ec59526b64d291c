"""Heart rate classification."""

BRADYCARDIA_BPM = 50


def is_bradycardic(bpm: int) -> bool:
    """Adult bradycardia: a resting heart rate below 60 beats per minute."""
    return bpm < BRADYCARDIA_BPM


def is_tachycardic(bpm: int) -> bool:
    """Adult tachycardia: above 100 beats per minute."""
    return bpm > 100
