"""Early-warning signals raised from a customer's own payment record."""
