"""Manual review: a credit manager's decision on a case, appended beside the automated one, never over it."""
