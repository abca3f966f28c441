"""The live fetch: daily papers API responses (and the trending page) into the landing folder."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from assets.ingest import OWNERS
from pipelines.core.ops.fetch import backfill, fetch_trending
from pipelines.core.ops.resolve import (
    resolve_titles,
    settings_from_env,
    title_only_papers,
    titles_due,
)
from pipelines.resources import HuggingFaceApi, PipelineSettings


class FetchRange(dg.Config):
    """The listing dates to fetch, inclusive; by default yesterday and today (UTC)."""

    start: str | None = None
    end: str | None = None
    refetch_existing: bool = True


def fetch_range(config: FetchRange, today: date | None = None) -> tuple[date, date]:
    today = today or datetime.now(UTC).date()
    end = date.fromisoformat(config.end) if config.end else today
    start = date.fromisoformat(config.start) if config.start else end - timedelta(days=1)
    return start, end


@dg.asset(group_name="fetch", kinds={"python", "json"}, owners=OWNERS)
def daily_papers_fetch(
    context: dg.AssetExecutionContext,
    config: FetchRange,
    settings: PipelineSettings,
    huggingface: HuggingFaceApi,
) -> dg.MaterializeResult:
    """Raw responses of the Hugging Face daily papers API, one file per listing date
    (``hf-daily-api/YYYY-MM-DD.json``), and a capture of the trending page when a URL is
    configured, written into the landing folder only once validated. The landing-folder sensor
    then ingests them. Offline, this fails with a clear message and the files already landed
    are built as usual."""
    start, end = fetch_range(config)
    landing = settings.paths.landing_dir
    outcomes = backfill(
        start,
        end,
        landing,
        huggingface.fetch_settings,
        skip_existing=not config.refetch_existing,
        progress=lambda outcome: context.log.info(outcome.describe()),
    )
    trending = None
    if huggingface.trending_url:
        trending = fetch_trending(landing, huggingface.fetch_settings)
    failed = [o for o in outcomes if not o.ok]
    metadata = {
        "dates": f"{start.isoformat()}..{end.isoformat()}",
        "fetched": sum(o.status in ("fetched", "updated") for o in outcomes),
        "unchanged": sum(o.status in ("unchanged", "skipped") for o in outcomes),
        "failed": len(failed),
        "outcomes": dg.MetadataValue.md("\n".join(f"- {o.describe()}" for o in outcomes)),
        "trending_capture": trending.describe() if trending else "no trending URL configured",
    }
    if failed and len(failed) == len(outcomes):
        raise dg.Failure(description=str(failed[0].error), metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


class TitleLookups(dg.Config):
    """How many titles one run looks up at most (arXiv asks for 3 s between requests)."""

    limit: int = 200


@dg.asset(
    group_name="fetch",
    deps=[daily_papers_fetch],
    kinds={"python", "json"},
    owners=OWNERS,
)
def title_lookups(
    context: dg.AssetExecutionContext,
    config: TitleLookups,
    settings: PipelineSettings,
    huggingface: HuggingFaceApi,
) -> dg.MaterializeResult:
    """The look-up ledger (``resolutions/*.jsonl`` in the landing folder): for the papers of the
    last build listed by title alone, what the Hugging Face papers search and the arXiv API
    answered and which arXiv id, if any, was accepted. The next build reads it as input
    (``trending-papers resolve`` does the same from the command line)."""
    paths = settings.paths
    try:
        papers = title_only_papers(paths.curated_dir)
    except FileNotFoundError as error:
        raise dg.Failure(f"{error}; build first") from error
    lookup = settings_from_env(huggingface.fetch_settings)
    lookup = dataclasses.replace(lookup, hf_base_url=huggingface.base_url)
    due = titles_due(papers, paths.landing_dir, lookup, datetime.now(UTC))
    run = resolve_titles(due[: config.limit], paths.landing_dir, lookup)
    context.log.info(run.describe())
    return dg.MaterializeResult(
        metadata={
            "titles_without_id": papers.height,
            "looked_up": len(run.lines),
            "resolved": run.count("accepted"),
            "unresolved": run.count("unresolved"),
            "failed": run.count("failed"),
            "ledger": str(run.ledger) if run.ledger else "nothing looked up",
        }
    )
