"""The credit policy: its document schema and the pure evaluator. No I/O lives here."""
