"""Metrics in Prometheus format and JSON logs with a request id."""
