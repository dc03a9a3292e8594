"""Retention: deleting decisions older than the configured period, each deletion recorded in the audit log."""
