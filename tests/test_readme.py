"""The README's data dictionary is the catalog's, and the README shows the two commands."""

from __future__ import annotations

from pipelines.core.publish.catalog import TABLES, data_dictionary_markdown
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_data_dictionary_matches_the_catalog() -> None:
    assert data_dictionary_markdown() in README, (
        "README.md's data dictionary is stale: run "
        "`.venv/bin/python -m pipelines.core.publish.catalog README.md`"
    )
    for name, doc in TABLES.items():
        for column in doc.columns:
            assert f"| `{column}` |" in README, (name, column)


def test_the_two_commands_and_the_variables_are_documented() -> None:
    assert "make run " in README and "make test " in README
    for variable in ("PAPERS_LANDING_DIR", "PAPERS_DATA_DIR"):
        assert f"`{variable}`" in README
