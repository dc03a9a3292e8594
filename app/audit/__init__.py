"""The tamper-evident audit log: append-only, hash-chained events written in the same transaction as the change."""
