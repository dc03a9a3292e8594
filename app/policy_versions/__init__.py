"""Versioned credit policies: stored documents, the active version, and what-if replay."""
