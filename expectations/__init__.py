"""Great Expectations suites of the dataset, and their adapter to Dagster asset checks.

``suites`` builds the suites in Python, ``validation`` runs one on a Polars frame (no Dagster),
``checks`` turns an outcome into a Dagster ``AssetCheckResult`` with the failures as metadata.
"""
