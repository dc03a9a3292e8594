"""Portfolio monitoring: refresh reports, detect changes, act on them."""
