"""The charts of the download page: their numbers on the real sample, and reproducible SVG."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from defusedxml import ElementTree

from pipelines.core.ops.settings import Paths
from pipelines.core.publish.charts import (
    code_share_by_month,
    papers_per_day,
    release_charts,
    top_owners,
    top_repositories,
    topic_trends,
)
from pipelines.core.publish.release import latest_release
from tests.conftest import release_table

TABLES = ("papers", "observations", "code_links", "paper_topics")


@pytest.fixture(scope="module")
def tables(built_sample: Paths) -> dict[str, pl.DataFrame]:
    release = latest_release(built_sample.releases_dir)
    assert release is not None
    return {name: release_table(release, name) for name in TABLES}


def test_papers_per_day_of_the_sample(tables: dict[str, pl.DataFrame]) -> None:
    per_day = papers_per_day(tables["observations"], tables["papers"])

    # 20 dated listing days; the 69 papers of the undated capture are left out
    assert per_day.height == 20
    assert per_day.row(0) == (date(2024, 5, 27), 13, 13)
    assert per_day.row(-1) == (date(2025, 3, 31), 15, 15)
    assert per_day["papers_listed"].sum() == 311
    assert per_day["papers_listed"].max() == 26


def test_topic_trends_of_the_sample(tables: dict[str, pl.DataFrame]) -> None:
    trends, start, latest = topic_trends(tables["observations"], tables["paper_topics"])

    # March 2025 against December 2024 to February 2025 (148 and 104 papers listed)
    assert (start, latest) == ("2024-12", "2025-03")
    assert trends.row(0) == ("reasoning", "Reasoning", "task", 25, 25 / 148, 39, 39 / 104, 20.61)
    assert trends.row(-1)[:2] == ("image-generation", "Diffusion and image generation")
    assert trends.row(-1)[-1] == -8.39
    assert trends.height == 22
    assert trends["change_points"].is_sorted(descending=True)
    # only taxonomy topics, never the API's keywords
    assert set(trends["kind"]) == {"task", "modality"}


def test_most_linked_repositories_and_owners_of_the_sample(
    tables: dict[str, pl.DataFrame],
) -> None:
    repositories = top_repositories(tables["code_links"])
    owners = top_owners(tables["code_links"])

    assert repositories.height == 15
    # every repository of the sample is linked by one paper: ties ranked by name
    assert repositories.row(0) == ("3587jjh/LSRNA", "https://github.com/3587jjh/LSRNA", 1)
    assert owners.head(6).rows() == [
        ("microsoft", 3, 3),
        ("zjunlp", 3, 3),
        ("bluorion-com", 2, 2),
        ("exoskeletonzj", 2, 2),
        ("facebookresearch", 2, 2),
        ("opendatalab", 2, 2),
    ]


def test_share_of_papers_with_code_of_the_sample(tables: dict[str, pl.DataFrame]) -> None:
    share = code_share_by_month(tables["papers"], tables["code_links"])

    assert share.select("month", "papers", "papers_with_code").rows() == [
        (date(2024, 5, 1), 59, 10),
        (date(2024, 12, 1), 95, 17),
        (date(2025, 1, 1), 53, 14),
        (date(2025, 3, 1), 104, 48),
    ]


def test_charts_are_reproducible_svg_with_alt_text_and_csv(
    tables: dict[str, pl.DataFrame],
) -> None:
    charts = release_charts(tables)
    again = release_charts(tables)

    assert [chart.slug for chart in charts] == [
        "papers-per-day", "topic-trends", "top-repositories", "top-owners", "code-share",
    ]  # fmt: skip
    assert [chart.svg for chart in charts] == [chart.svg for chart in again]
    for chart in charts:
        root = ElementTree.fromstring(chart.svg.encode())
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root) > 2
        # no save date in the metadata: a later build writes the same bytes
        assert "<dc:date>" not in chart.svg
        assert chart.alt and chart.caption
        assert chart.csv().splitlines()[0] == ",".join(chart.data.columns)
    by_slug = {chart.slug: chart for chart in charts}
    assert by_slug["papers-per-day"].alt == (
        "Bar chart of the papers listed on each of 20 listing days from 2024-05-27 to "
        "2025-03-31: between 8 and 26 papers a day, 15.6 on average; the most on 2024-12-11."
    )
    assert by_slug["code-share"].alt.endswith(
        "2024-05 17% of 59 papers; 2024-12 18% of 95 papers; 2025-01 26% of 53 papers; "
        "2025-03 46% of 104 papers."
    )
    assert by_slug["code-share"].csv().splitlines()[1] == "2024-05-01,59,10,0.1695"


def test_missing_tables_leave_their_charts_out_and_empty_ones_say_so(
    tables: dict[str, pl.DataFrame],
) -> None:
    only_papers = release_charts({"papers": tables["papers"]})
    empty = release_charts({name: frame.clear() for name, frame in tables.items()})

    assert only_papers == []
    assert [chart.slug for chart in empty] == [
        "papers-per-day", "topic-trends", "top-repositories", "top-owners", "code-share",
    ]  # fmt: skip
    for chart in empty:
        assert "no data in this release" in chart.svg
        assert chart.data.is_empty()
    assert empty[0].alt == "No dated listings: no papers per day to show."
