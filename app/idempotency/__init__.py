"""Idempotent writes: a stored response per (API key, Idempotency-Key), replayed byte for byte."""
