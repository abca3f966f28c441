"""The field contracts: documented as they are, each rule named for its field, and required
fields rejecting only where they are required."""

from __future__ import annotations

import polars as pl

from pipelines.core.ingest.contracts import (
    CONTRACTS,
    REJECT_ENTRY,
    apply_contracts,
    contracts_markdown,
)
from pipelines.core.ingest.entries import API_FORMAT, CAPTURE_FORMAT
from pipelines.core.schema import PARSED_ENTRY_SCHEMA
from tests.conftest import REPO


def test_the_docs_show_the_contracts_as_they_are() -> None:
    docs = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert contracts_markdown() in docs, (
        "docs/reliability.md's field contracts are stale: run "
        "`.venv/bin/python -m pipelines.core.ingest.contracts docs/reliability.md`"
    )


def test_every_rule_is_named_for_its_field_and_named_once() -> None:
    for contract in CONTRACTS.values():
        names = [rule.name for rule in contract.rules()]
        assert len(names) == len(set(names)), contract.name
        assert all(name.startswith(f"{contract.name}.") for name in names), contract.name
        # only a required field has rules that reject its entry
        rejecting = [rule for rule in contract.rules() if rule.policy == REJECT_ENTRY]
        assert bool(rejecting) == bool(contract.required_in), contract.name


def test_an_unusable_id_rejects_an_api_entry_and_is_dropped_from_a_capture() -> None:
    schema = {
        **PARSED_ENTRY_SCHEMA,
        "published_at": pl.String(),
        "submitted_on_daily_at": pl.String(),
    }
    frame = (
        pl.DataFrame(
            [
                {"position": 1, "title_raw": "A paper", "arxiv_id_raw": "not an id"},
                {"position": 1, "title_raw": "A paper", "arxiv_id_raw": "not an id"},
            ],
            schema=schema,
        )
        .with_columns(pl.Series("source_format", [API_FORMAT, CAPTURE_FORMAT]))
        .with_row_index("_row")
    )
    outcome = apply_contracts(frame)
    assert outcome.rejected.select("_row", "rule").rows() == [(0, "arxiv_id.invalid")]
    assert outcome.repairs.select("_row", "rule", "action").rows() == [
        (1, "arxiv_id.invalid", "dropped")
    ]
    assert outcome.entries["arxiv_id"].to_list() == [None, None]
    assert outcome.entries["title"].to_list() == ["A paper", "A paper"]
