"""Curate: one row per paper across every listing, its appearances, code links, aliases,
claims and topics, from all kept entries.
"""
