"""Credit-report providers: the adapter protocol, the normalised report, and the adapters."""
