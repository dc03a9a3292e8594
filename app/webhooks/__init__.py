"""Webhooks: subscriptions, the transactional outbox, signed delivery."""
