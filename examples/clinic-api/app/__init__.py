"""clinic-api: a small FHIR R4 service for Patient and Observation resources."""

__version__ = "1.0.0"
