"""creditgate: B2B trade-credit decisions."""
