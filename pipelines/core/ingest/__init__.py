"""Ingest: from the bytes of a landed file to its normalised entries, its rejects and
its repairs (field contracts, the circuit breaker), and the store that keeps them between runs.
"""
