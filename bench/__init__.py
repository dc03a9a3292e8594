"""Benchmarks that print figures: decision throughput and latency, history queries, and their growth."""
