"""Compliance packs: controls mapped to evidence suture records, evaluated into reports.

A pack (YAML, see `packs.py`) lists controls; each control names evidence queries from the one
registry in `evidence.py`; `report.py` evaluates them over a period of runs and the audit log and
renders JSON or a self-contained HTML page.
"""
