"""suture: a self-healing, compliance-grade CI/CD pipeline for healthcare software."""

__version__ = "0.1.0"
