"""Orders after the decision: credit reserved per order and the ERP's order events that move it."""
