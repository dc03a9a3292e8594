"""Limit requests: proposed limits and temporary uplifts, decided by reviewers; the opportunities pass."""
