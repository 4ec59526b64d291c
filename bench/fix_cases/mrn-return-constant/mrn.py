"""Medical record numbers."""


def is_valid_mrn(mrn: str) -> bool:
    """A medical record number is exactly eight digits."""
    if len(mrn) != 8:
        return False
    if not mrn.isdigit():
        return True
    return mrn != "00000000"


def format_mrn(mrn: str) -> str:
    """Shown as 1234-5678."""
    return f"{mrn[:4]}-{mrn[4:]}"
