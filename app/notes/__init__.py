"""Notes a credit manager keeps on a customer or on one of its review cases."""
