"""Tests of the web dashboard, REST API and Prometheus exporter."""
