"""Publish: the immutable Parquet release (manifest, diff, changelog, Croissant, dataset
card), its data dictionary, and the analysts' DuckDB file.
"""
