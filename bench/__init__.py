"""Benchmarks of the trending-papers build against a floor and against dlt (see README)."""
