"""Pure data logic of the pipeline: parsing, normalising, resolving, publishing.

Nothing in this package imports Dagster, so each step can be tested and benchmarked on its own;
the assets in ``assets/`` are thin wrappers that call these functions and report metadata.
"""
