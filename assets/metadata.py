"""Metadata every materialisation reports: row counts, a Markdown preview, the column schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg
import polars as pl

from pipelines.core.ingest.breaker import RuleCount

PREVIEW_ROWS = 10
# long text would make the preview unreadable in the UI
PREVIEW_CELL_CHARS = 60
# rules listed in the grouped counts of rejects and repairs (there are about a hundred)
RULES_IN_METADATA = 30


def column_schema(schema: pl.Schema | dict[str, pl.DataType]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, str(dtype)) for name, dtype in schema.items()]
    )


def table_metadata(frame: pl.DataFrame, *, preview: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/column_schema": column_schema(frame.schema),
    }
    if preview:
        metadata["preview"] = dg.MetadataValue.md(markdown_preview(frame))
    return metadata


def markdown_preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    head = frame.head(rows)
    columns = head.columns
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)


def counts_markdown(counts: Sequence[RuleCount]) -> str:
    """Rejects or repairs grouped by rule, most frequent first, each with an example."""
    if not counts:
        return "none"
    return markdown_preview(
        pl.DataFrame(
            [(c.rule, c.count, c.example) for c in counts],
            schema={"rule": pl.String(), "count": pl.Int64(), "example": pl.String()},
            orient="row",
        ),
        rows=RULES_IN_METADATA,
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= PREVIEW_CELL_CHARS else text[: PREVIEW_CELL_CHARS - 1] + "…"


def embedding_coverage(papers: pl.DataFrame, embeddings: pl.DataFrame) -> dict[str, Any]:
    """How many papers have a vector (the rest are missing from search and neighbour lists)."""
    embedded = embeddings.filter(pl.col("vector").is_not_null()).height
    share = embedded / papers.height if papers.height else 1.0
    models = sorted(embeddings["model"].unique().to_list())
    return {
        "embedded_papers": dg.MetadataValue.int(embedded),
        "papers_without_vector": dg.MetadataValue.int(papers.height - embedded),
        "embedding_coverage": dg.MetadataValue.float(round(share, 4)),
        "embedding_model": dg.MetadataValue.text(", ".join(models)),
    }
