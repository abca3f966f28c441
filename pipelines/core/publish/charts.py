"""The charts of a release's download page: the numbers, computed from the release's tables with
Polars, and the pictures, rendered once at build time to static SVG.

The pictures are drawn with matplotlib. It is maintained, works offline (its fonts ship with it:
DejaVu Sans), needs no browser or JavaScript runtime at build or view time, and its SVG is
byte-for-byte reproducible once the two sources of variation are fixed: the ids of the SVG
elements are hashed with a fixed salt (``svg.hashsalt``) and no date is written into the SVG
metadata. Text stays text (``svg.fonttype: none``): the files are small, and the labels can be
searched and read aloud. Altair with vl-convert was the other candidate; it brings a JavaScript
engine along for the same static pictures.

Each chart comes with the table it was drawn from (written beside it as CSV), a caption saying
what it shows and an alt text stating its main numbers, for readers who cannot see it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

# the SVG element ids are hashed with this salt instead of a random one: same data, same bytes
SVG_HASH_SALT = "trending-papers"
# a page column is about 60 em wide: at 10 pt text, 7.5 in keeps labels legible when scaled down
FIGURE_SIZE = (7.5, 3.2)
# one hue for amounts, a second for decreases; both readable by colour-blind readers
MAIN_COLOUR = "#1f5fa8"
FALLING_COLOUR = "#c2571a"
# how many repositories and owners the "most linked" charts rank
TOP_LINKED = 15
# topics: the latest month with listings against the calendar months just before it
TREND_EARLIER_MONTHS = 3
# a topic needs this many papers in the window to count as rising or falling: below it one
# paper more or less swings its share by several points
TREND_MIN_PAPERS = 3
# how many rising and how many falling topics are drawn
TREND_SHOWN = 6
# topics of the curated taxonomy; the API's keywords are too many and too sparse to trend
TAXONOMY_KINDS = ("task", "modality")
REPOSITORY = "repository"


@dataclass(frozen=True)
class Chart:
    """One chart of the download page.

    Attributes:
        slug: The file stem: the picture is ``charts/<slug>.svg``, its data ``charts/<slug>.csv``.
        title: The heading above it.
        caption: What it shows and how it was computed (the ``<figcaption>``).
        alt: Its main numbers in words (the ``alt`` text of the picture).
        data: The numbers it was drawn from, one row per bar or point.
        svg: The picture.
    """

    slug: str
    title: str
    caption: str
    alt: str
    data: pl.DataFrame
    svg: str

    def csv(self) -> str:
        """The data as CSV: a header, ``,`` between values, dates as ``YYYY-MM-DD``."""
        return self.data.write_csv(float_precision=4, date_format="%Y-%m-%d")


def release_charts(tables: Mapping[str, pl.DataFrame]) -> list[Chart]:
    """Every chart whose tables are in ``tables``, in the order of the page.

    Papers listed per day (``observations``, ``papers``), the topics rising and falling
    (``observations``, ``paper_topics``), the most-linked repositories and owners
    (``code_links``) and the share of papers with code by month (``papers``, ``code_links``).
    A chart whose table or columns are missing is left out; one whose tables are empty is drawn
    with a "no data" note.
    """
    makers: list[tuple[dict[str, tuple[str, ...]], Callable[..., Chart]]] = [
        (
            {"observations": ("paper_id", "listed_on"), "papers": ("first_listed_on",)},
            lambda: papers_per_day_chart(tables["observations"], tables["papers"]),
        ),
        (
            {
                "observations": ("paper_id", "listed_on"),
                "paper_topics": ("paper_id", "topic", "topic_name", "kind"),
            },
            lambda: topic_trend_chart(tables["observations"], tables["paper_topics"]),
        ),
        (
            {"code_links": ("paper_id", "host", "owner", "repo", "kind", "url")},
            lambda: top_repositories_chart(tables["code_links"]),
        ),
        (
            {"code_links": ("paper_id", "host", "owner", "owner_display", "kind")},
            lambda: top_owners_chart(tables["code_links"]),
        ),
        (
            {"papers": ("paper_id", "first_listed_on"), "code_links": ("paper_id", "kind")},
            lambda: code_share_chart(tables["papers"], tables["code_links"]),
        ),
    ]
    return [make() for needs, make in makers if _has_columns(tables, needs)]


def _has_columns(tables: Mapping[str, pl.DataFrame], needs: Mapping[str, tuple[str, ...]]) -> bool:
    return all(
        name in tables and set(columns) <= set(tables[name].columns)
        for name, columns in needs.items()
    )


# --- the numbers ---------------------------------------------------------------------------------


def papers_per_day(observations: pl.DataFrame, papers: pl.DataFrame) -> pl.DataFrame:
    """Per listing date: the distinct papers listed that day, and how many of them were listed
    for the first time. Undated listings (captures without a year) are left out."""
    listed = (
        observations.filter(pl.col("listed_on").is_not_null())
        .group_by("listed_on")
        .agg(pl.col("paper_id").n_unique().alias("papers_listed"))
    )
    first = (
        papers.filter(pl.col("first_listed_on").is_not_null())
        .group_by(pl.col("first_listed_on").alias("listed_on"))
        .agg(pl.len().alias("papers_first_listed"))
    )
    return (
        listed.join(first, on="listed_on", how="left")
        .select(
            "listed_on",
            pl.col("papers_listed").cast(pl.Int64()),
            pl.col("papers_first_listed").fill_null(0).cast(pl.Int64()),
        )
        .sort("listed_on")
    )


def topic_trends(
    observations: pl.DataFrame,
    paper_topics: pl.DataFrame,
    *,
    earlier_months: int = TREND_EARLIER_MONTHS,
    min_papers: int = TREND_MIN_PAPERS,
) -> tuple[pl.DataFrame, str | None, str | None]:
    """How the share of listed papers on each taxonomy topic moved in the last months.

    The latest month with dated listings is compared with the ``earlier_months`` calendar
    months before it: for each topic, the share of the papers listed in each period that have
    it (a paper listed in both periods counts in both), and the change in percentage points.
    Topics with fewer than ``min_papers`` papers over both periods are left out.

    Returns:
        The topics, rising first (``topic``, ``topic_name``, ``kind``, ``earlier_papers``,
        ``earlier_share``, ``latest_papers``, ``latest_share``, ``change_points``), the first
        month of the earlier period and the latest month (``YYYY-MM``; None without listings).
    """
    schema = {
        "topic": pl.String(),
        "topic_name": pl.String(),
        "kind": pl.String(),
        "earlier_papers": pl.Int64(),
        "earlier_share": pl.Float64(),
        "latest_papers": pl.Int64(),
        "latest_share": pl.Float64(),
        "change_points": pl.Float64(),
    }
    monthly = (
        observations.filter(pl.col("listed_on").is_not_null())
        .select("paper_id", pl.col("listed_on").dt.truncate("1mo").alias("month"))
        .unique()
    )
    latest = monthly.select(pl.col("month").max()).item()
    if latest is None:
        return pl.DataFrame(schema=schema), None, None
    start = monthly.select(pl.lit(latest).dt.offset_by(f"-{earlier_months}mo")).item()
    period = (
        monthly.filter(pl.col("month") >= start)
        .with_columns(
            pl.when(pl.col("month") == latest)
            .then(pl.lit("latest"))
            .otherwise(pl.lit("earlier"))
            .alias("period")
        )
        .select("paper_id", "period")
        .unique()
    )
    totals = period.group_by("period").agg(pl.len().alias("listed"))
    topics = paper_topics.filter(pl.col("kind").is_in(TAXONOMY_KINDS)).select(
        "paper_id", "topic", "topic_name", "kind"
    )
    # one name and kind per topic; a paper counts once per topic whatever matched it
    names = topics.group_by("topic").agg(pl.col("topic_name").min(), pl.col("kind").min())
    counted = (
        topics.select("paper_id", "topic")
        .unique()
        .join(period, on="paper_id")
        .group_by("topic", "period")
        .agg(pl.len().alias("papers"))
        .join(totals, on="period")
        .with_columns(share=pl.col("papers") / pl.col("listed"))
        .pivot("period", index="topic", values=["papers", "share"], aggregate_function=None)
    )
    for column in ("papers_earlier", "papers_latest", "share_earlier", "share_latest"):
        if column not in counted.columns:
            counted = counted.with_columns(pl.lit(None, pl.Float64()).alias(column))
    periods = set(totals.get_column("period").to_list())
    trends = (
        counted.join(names, on="topic")
        .select(
            "topic",
            "topic_name",
            "kind",
            pl.col("papers_earlier").fill_null(0).cast(pl.Int64()).alias("earlier_papers"),
            pl.col("share_earlier").fill_null(0.0).cast(pl.Float64()).alias("earlier_share"),
            pl.col("papers_latest").fill_null(0).cast(pl.Int64()).alias("latest_papers"),
            pl.col("share_latest").fill_null(0.0).cast(pl.Float64()).alias("latest_share"),
        )
        .with_columns(
            change_points=((pl.col("latest_share") - pl.col("earlier_share")) * 100).round(2)
        )
        .filter(pl.col("earlier_papers") + pl.col("latest_papers") >= min_papers)
        .sort(["change_points", "topic"], descending=[True, False])
    )
    if periods != {"earlier", "latest"}:
        # without both periods there is nothing to compare
        trends = trends.clear()
    return trends.cast(pl.Schema(schema)), _month(start), _month(latest)


def top_repositories(code_links: pl.DataFrame, limit: int = TOP_LINKED) -> pl.DataFrame:
    """The repositories linked by the most papers: ``repository`` (owner/name as first written;
    the host is added when it is not github.com), ``url`` and ``papers``, most papers first."""
    return (
        code_links.filter(pl.col("kind") == REPOSITORY)
        .group_by("host", "owner", "repo")
        .agg(
            pl.col("paper_id").n_unique().cast(pl.Int64()).alias("papers"),
            pl.col("url").min(),
            pl.format(
                "{}/{}",
                pl.col(_display("owner", code_links)).min(),
                pl.col(_display("repo", code_links)).min(),
            ).alias("name"),
        )
        .select(
            pl.when(pl.col("host") == "github.com")
            .then(pl.col("name"))
            .otherwise(pl.format("{}/{}", "host", "name"))
            .alias("repository"),
            "url",
            "papers",
        )
        .sort(["papers", "repository"], descending=[True, False])
        .head(limit)
    )


def top_owners(code_links: pl.DataFrame, limit: int = TOP_LINKED) -> pl.DataFrame:
    """The owners (users, organisations) whose repositories the most papers link: ``owner``
    (as first written, with the host when not github.com), ``papers``, ``repositories``."""
    return (
        code_links.filter(pl.col("kind") == REPOSITORY)
        .group_by("host", "owner")
        .agg(
            pl.col("paper_id").n_unique().cast(pl.Int64()).alias("papers"),
            pl.col("repo").n_unique().cast(pl.Int64()).alias("repositories")
            if "repo" in code_links.columns
            else pl.len().cast(pl.Int64()).alias("repositories"),
            pl.col(_display("owner", code_links)).min().alias("name"),
        )
        .select(
            pl.when(pl.col("host") == "github.com")
            .then(pl.col("name"))
            .otherwise(pl.format("{}/{}", "host", "name"))
            .alias("owner"),
            "papers",
            "repositories",
        )
        .sort(["papers", "owner"], descending=[True, False])
        .head(limit)
    )


def code_share_by_month(papers: pl.DataFrame, code_links: pl.DataFrame) -> pl.DataFrame:
    """Per month of first listing: the papers, those linking at least one code repository, and
    their share (0 to 1). Papers listed without a date are left out."""
    with_code = code_links.filter(pl.col("kind") == REPOSITORY).select("paper_id").unique()
    return (
        papers.filter(pl.col("first_listed_on").is_not_null())
        .join(with_code.with_columns(has_code=pl.lit(True)), on="paper_id", how="left")
        .group_by(pl.col("first_listed_on").dt.truncate("1mo").alias("month"))
        .agg(
            pl.len().cast(pl.Int64()).alias("papers"),
            pl.col("has_code").sum().cast(pl.Int64()).alias("papers_with_code"),
        )
        .with_columns(share_with_code=pl.col("papers_with_code") / pl.col("papers"))
        .sort("month")
    )


def _display(column: str, frame: pl.DataFrame) -> str:
    # the name as the source wrote it when the table keeps it, else the lower-case key
    display = f"{column}_display"
    return display if display in frame.columns else column


def _month(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y-%m")


# --- the charts ----------------------------------------------------------------------------------


def papers_per_day_chart(observations: pl.DataFrame, papers: pl.DataFrame) -> Chart:
    data = papers_per_day(observations, papers)
    title = "Papers listed per day"
    if data.is_empty():
        alt = "No dated listings: no papers per day to show."
    else:
        stats = data.select(
            pl.col("listed_on").min().alias("first"),
            pl.col("listed_on").max().alias("last"),
            pl.len().alias("days"),
            pl.col("papers_listed").min().alias("fewest"),
            pl.col("papers_listed").max().alias("most"),
            pl.col("papers_listed").mean().alias("mean"),
            pl.col("listed_on")
            .sort_by("papers_listed", "listed_on", descending=[True, False])
            .first()
            .alias("peak"),
        ).row(0, named=True)
        alt = (
            f"Bar chart of the papers listed on each of {stats['days']} listing days from "
            f"{stats['first']} to {stats['last']}: between {stats['fewest']} and {stats['most']} "
            f"papers a day, {stats['mean']:.1f} on average; the most on {stats['peak']}."
        )
    caption = (
        "Distinct papers on each day's listings (bars), and how many of them were listed for "
        "the first time (dots). Days without listings are gaps; undated page captures are left "
        "out."
    )

    def draw(axes: Any) -> None:
        days = data.get_column("listed_on").to_list()
        axes.bar(
            days,
            data.get_column("papers_listed").to_list(),
            width=0.9,
            color=MAIN_COLOUR,
            label="listed",
        )
        axes.plot(
            days,
            data.get_column("papers_first_listed").to_list(),
            linestyle="none",
            marker="o",
            markersize=3,
            color=FALLING_COLOUR,
            label="listed for the first time",
        )
        axes.set_ylabel("papers")
        axes.legend(loc="upper left", frameon=False)
        _date_axis(axes)

    return Chart("papers-per-day", title, caption, alt, data, _render(title, data, draw))


def topic_trend_chart(observations: pl.DataFrame, paper_topics: pl.DataFrame) -> Chart:
    trends, start, latest = topic_trends(observations, paper_topics)
    rising = trends.filter(pl.col("change_points") > 0).head(TREND_SHOWN)
    falling = trends.filter(pl.col("change_points") < 0).tail(TREND_SHOWN)
    shown = pl.concat([rising, falling])
    title = "Topics rising and falling"
    if shown.is_empty():
        period = f" ({start} to {latest})" if latest else ""
        alt = f"No topic changed its share of listed papers{period}: nothing to show."
    else:
        alt = (
            f"Horizontal bar chart of the change in the share of listed papers per topic, "
            f"{latest} against {start} to the month before. Rising: "
            + (_listing(rising, "topic_name", "change_points", "{:+.1f} points") or "none")
            + ". Falling: "
            + (
                _listing(falling.reverse(), "topic_name", "change_points", "{:+.1f} points")
                or "none"
            )
            + "."
        )
    caption = (
        f"Share of the papers listed in {latest or 'the latest month'} that have each taxonomy "
        f"topic, minus its share among the papers listed in the {TREND_EARLIER_MONTHS} months "
        f"before, in percentage points; at most {TREND_SHOWN} topics each way, topics with "
        f"fewer than {TREND_MIN_PAPERS} papers left out. The CSV has every topic."
    )

    def draw(axes: Any) -> None:
        # top to bottom: the most rising first, the most falling last
        ordered = shown.reverse()
        values = ordered.get_column("change_points").to_list()
        colours = [MAIN_COLOUR if value > 0 else FALLING_COLOUR for value in values]
        axes.barh(ordered.get_column("topic_name").to_list(), values, color=colours)
        axes.axvline(0, color="#444444", linewidth=0.8)
        axes.set_xlabel("change in share of listed papers (percentage points)")

    return Chart("topic-trends", title, caption, alt, trends, _render(title, shown, draw))


def top_repositories_chart(code_links: pl.DataFrame) -> Chart:
    data = top_repositories(code_links)
    title = "Most-linked repositories"
    return _ranking_chart(
        "top-repositories",
        title,
        data,
        "repository",
        caption=f"The {TOP_LINKED} code repositories linked by the most papers (ties by name).",
    )


def top_owners_chart(code_links: pl.DataFrame) -> Chart:
    data = top_owners(code_links)
    title = "Most-linked owners"
    return _ranking_chart(
        "top-owners",
        title,
        data,
        "owner",
        caption=f"The {TOP_LINKED} users and organisations whose repositories the most papers "
        "link (a paper linking two of their repositories counts once; ties by name).",
    )


def _ranking_chart(slug: str, title: str, data: pl.DataFrame, label: str, caption: str) -> Chart:
    plural = {"repository": "repositories"}.get(label, f"{label}s")
    if data.is_empty():
        alt = "No paper links a code repository: nothing to rank."
    else:
        alt = (
            f"Horizontal bar chart of the {data.height} {plural} linked by the most papers, "
            "with their number of papers: " + _listing(data, label, "papers", "{}") + "."
        )

    def draw(axes: Any) -> None:
        ordered = data.reverse()
        axes.barh(
            ordered.get_column(label).to_list(),
            ordered.get_column("papers").to_list(),
            color=MAIN_COLOUR,
        )
        axes.set_xlabel("papers")
        axes.xaxis.get_major_locator().set_params(integer=True)

    return Chart(slug, title, caption, alt, data, _render(title, data, draw, tall=True))


def code_share_chart(papers: pl.DataFrame, code_links: pl.DataFrame) -> Chart:
    data = code_share_by_month(papers, code_links)
    title = "Share of papers with code"
    if data.is_empty():
        alt = "No dated papers: no share of papers with code to show."
    else:
        alt = (
            "Line chart of the share of papers linking a code repository, by month of first "
            "listing: "
            + "; ".join(
                data.select(
                    pl.format(
                        "{} {}% of {} papers",
                        pl.col("month").dt.strftime("%Y-%m"),
                        (pl.col("share_with_code") * 100).round(0).cast(pl.Int64()),
                        pl.col("papers"),
                    )
                )
                .to_series()
                .to_list()
            )
            + "."
        )
    caption = (
        "Per month in which papers were first listed: the share of them that link at least one "
        "code repository (GitHub, GitLab...). Project pages, models and data sets do not count."
    )

    def draw(axes: Any) -> None:
        months = data.get_column("month").to_list()
        shares = (data.get_column("share_with_code") * 100).to_list()
        axes.plot(months, shares, marker="o", color=MAIN_COLOUR)
        axes.set_ylim(0, 100)
        axes.set_ylabel("% of papers")
        _date_axis(axes)

    return Chart("code-share", title, caption, alt, data, _render(title, data, draw))


def _listing(frame: pl.DataFrame, label: str, value: str, template: str) -> str:
    """``label (value), ...`` of every row, the value written with ``template``."""
    pairs = frame.select(label, value).rows()
    return ", ".join(f"{name} ({template.format(number)})" for name, number in pairs)


def _date_axis(axes: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _render(
    title: str, data: pl.DataFrame, draw: Callable[[Any], None], *, tall: bool = False
) -> str:
    """The chart as SVG text: ``draw`` fills the axes, or a "no data" note when ``data`` is
    empty. The same data gives the same bytes (see the module's docstring)."""
    import matplotlib
    from matplotlib.figure import Figure

    settings: dict[Any, Any] = {
        "svg.hashsalt": SVG_HASH_SALT,
        "svg.fonttype": "none",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
    }
    with matplotlib.rc_context(settings):
        width, height = FIGURE_SIZE
        figure = Figure(figsize=(width, height * 1.4 if tall else height), layout="constrained")
        axes = figure.subplots()
        axes.set_title(title)
        if data.is_empty():
            axes.set_axis_off()
            axes.text(
                0.5,
                0.5,
                "no data in this release",
                ha="center",
                va="center",
                transform=axes.transAxes,
                color="#555555",
            )
        else:
            draw(axes)
        buffer = io.StringIO()
        # no Date: a build at another time gives the same file
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    return buffer.getvalue()
