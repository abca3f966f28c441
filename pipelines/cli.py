"""``trending-papers``: build the dataset from the landing folder, or verify a release.

``build`` runs the Dagster job in this process against the persistent instance under the data
folder, so every run shows in the UI afterwards; the screen gets one line per stage and batch of
files and a summary, while Dagster's full log goes to ``$PAPERS_DATA_DIR/logs/``.

When ``PAPERS_LANDING_DIR`` or ``PAPERS_DATA_DIR`` is an ``s3://`` URL, ``build`` pulls the local
mirrors before planning and pushes the data folder after a successful build (``fetch`` pushes the
files it landed, ``verify`` pulls the releases first). ``PAPERS_DAGSTER_HOME`` names another
Dagster instance folder than ``<data>/dagster``, e.g. one whose ``dagster.yaml`` keeps the storage
in PostgreSQL (``deploy/dagster.yaml``); it is used as is when it holds a ``dagster.yaml``.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import click

from pipelines.core.ops.locking import BuildLocked, exclusive_build
from pipelines.core.ops.object_store import MirrorError, SyncReport
from pipelines.core.ops.settings import Locations, Paths, locations_from_env, paths_from_env
from pipelines.core.publish.release import LATEST, verify_release

# rules of rejects and repairs listed on the screen after a build, the most frequent first; the
# rest are in the rejects and repairs tables
RULES_SHOWN = 10
# the first line marks a dagster.yaml this command wrote, and may rewrite (say, when the data
# folder has moved); delete the line to keep a dagster.yaml of your own unchanged
INSTANCE_CONFIG_MARK = "# the Dagster instance of this data folder, written by trending-papers"
INSTANCE_CONFIG = """\
{mark} (runs, events, schedules); see deploy/ for production
telemetry:
  enabled: false
# Dagster's SQLite storage, asset events written a batch at a time (pipelines/event_storage.py)
storage:
  custom:
    module: pipelines.event_storage
    class: BatchedSqliteStorage
    config:
      base_dir: {base_dir}
"""
# what earlier versions wrote: the stock storage over the same folder layout, upgraded in place
_EARLIER_INSTANCE_CONFIG = """\
# the Dagster instance of this data folder (runs, events, schedules); see deploy/ for production
telemetry:
  enabled: false
"""


@click.group()
def main() -> None:
    """The trending-papers dataset: build it, verify it."""


@main.command()
@click.option(
    "--full",
    is_flag=True,
    help="Curate every paper from the whole history and rebuild the warehouse, instead of "
    "updating what the new files touch (the same as PAPERS_FULL_BUILD=1).",
)
def build(full: bool) -> None:
    """Ingest new or changed files from the landing folder and publish the dataset."""
    locations = _locations()
    paths = locations.paths
    _prepare_instance(paths)
    _quiet_libraries()
    progress = _progress_to_screen()
    try:
        # one writer per data folder: a second build fails at once with who holds it
        with exclusive_build(paths.data_dir):
            _sync(locations, progress, "pull")
            # exits non-zero on a failed build, so nothing is pushed then
            _build(paths, progress, full=full)
            _sync(locations, progress, "push")
    except BuildLocked as error:
        raise click.ClickException(str(error)) from None


def _build(paths: Paths, progress: logging.Logger, *, full: bool = False) -> None:
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.jobs import BUILD_JOB, FULL_BUILD_TAG, PUBLISH_JOB
    from pipelines.partitions import LISTING_FILES_PARTITION
    from pipelines.planning import plan_build

    started = datetime.now(UTC)
    log_path = paths.logs_dir / f"build-{started.strftime('%Y%m%dT%H%M%SZ')}.log"
    progress.info("landing folder: %s", paths.landing_dir)
    progress.info("data folder:    %s", paths.data_dir)
    try:
        instance = dg.DagsterInstance.get()
        known = instance.get_dynamic_partitions(LISTING_FILES_PARTITION)
        plan = plan_build(paths, known)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    for refused in plan.refused:
        progress.warning("refused %s: %s", refused.file_key, refused.reason)
    progress.info("plan: %d new or changed files of %d known", len(plan.pending), len(known))
    if plan.new_partitions:
        instance.add_dynamic_partitions(LISTING_FILES_PARTITION, plan.new_partitions)
    job_name = BUILD_JOB if plan.pending else PUBLISH_JOB
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        tags={**plan.run_tags, **({FULL_BUILD_TAG: "true"} if full else {})},
        run_config={"loggers": {"run_log_file": {"config": {"path": str(log_path)}}}},
        raise_on_error=False,
    )
    if not result.success:
        _report_failure(result, log_path)
        sys.exit(1)
    _report_summary(paths, log_path, result)


@main.command()
@click.option("--start", help="First listing date (YYYY-MM-DD); default yesterday (UTC).")
@click.option("--end", help="Last listing date (YYYY-MM-DD); default today (UTC).")
@click.option("--skip-existing", is_flag=True, help="Do not request dates already landed.")
def fetch(start: str | None, end: str | None, skip_existing: bool) -> None:
    """Fetch daily papers API responses for a date range into the landing folder."""
    locations = _locations()
    paths = locations.paths
    _prepare_instance(paths)
    _quiet_libraries()
    progress = _progress_to_screen()
    _sync(locations, progress, "pull", data=False)

    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.jobs import FETCH_JOB

    log_path = paths.logs_dir / f"fetch-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.log"
    fetch_config = {"start": start, "end": end, "refetch_existing": not skip_existing}
    result = defs.resolve_job_def(FETCH_JOB).execute_in_process(
        instance=dg.DagsterInstance.get(),
        run_config={
            "ops": {"daily_papers_fetch": {"config": fetch_config}},
            "loggers": {"run_log_file": {"config": {"path": str(log_path)}}},
        },
        raise_on_error=False,
    )
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        outcomes = metadata.get("outcomes")
        if outcomes is not None:
            click.echo(str(outcomes.value))
    # files are landed only once validated, so what a partly failed fetch landed is kept
    _sync(locations, progress, "push", data=False)
    if not result.success:
        _report_failure(
            result, log_path, what="FETCH FAILED: nothing new was landed for the failed dates."
        )
        sys.exit(1)
    progress.info("fetched into %s; `make run` builds them", locations.landing)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3000, show_default=True)
def ui(host: str, port: int) -> None:
    """Serve the Dagster UI, with the instance of the data folder (runs persist across starts)."""
    paths = paths_from_env()
    _prepare_instance(paths)
    workspace = Path(__file__).resolve().parent.parent / "workspace.yaml"
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(workspace), "-h", host, "-p", str(port)]
    # exec keeps the process id, so whoever started the UI can stop it by that id
    os.execv(command[0], command)


@main.command()
@click.argument("release", required=False)
def verify(release: str | None) -> None:
    """Recheck every file of RELEASE (an id, a folder, or the latest) against its manifest."""
    locations = _locations()
    paths = locations.paths
    mirror = locations.data_mirror()
    if mirror is not None:
        _transfer(
            lambda: [mirror.pull(delete_removed=True, under="releases")],
            f"pull of {mirror.url}/releases",
            "nothing was verified",
        )
    folder = _release_folder(paths, release)
    problems = verify_release(folder)
    if problems:
        for problem in problems:
            click.echo(f"FAILED {folder.name}: {problem}", err=True)
        sys.exit(1)
    click.echo(f"OK {folder.name}: every file matches its sha256 and row count")


@main.command()
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free).")
def serve(port: int) -> None:
    """Serve the data folder read-only on 127.0.0.1: the download pages under /releases/ and
    every file of the releases, with HTTP range requests (Polars and DuckDB read Parquet in
    place). Stop with Ctrl-C."""
    from pipelines.core.publish.serve import HOME, make_server

    paths = _locations().paths
    if not paths.releases_dir.is_dir():
        raise click.ClickException(
            f"no releases in {paths.data_dir}: run `{_program()} build` first"
        )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with make_server(paths.data_dir, port) as server:
        host, bound = server.server_address[:2]
        click.echo(f"serving {paths.data_dir} read-only on http://{host}:{bound}{HOME}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped")


def _release_folder(paths: Paths, release: str | None) -> Path:
    if release is None:
        return (paths.releases_dir / LATEST).resolve()
    candidate = Path(release)
    return candidate if candidate.is_dir() else paths.releases_dir / release


def _prepare_instance(paths: Paths) -> None:
    """Point ``DAGSTER_HOME`` at the instance folder: ``PAPERS_DAGSTER_HOME`` when set (an
    inherited ``DAGSTER_HOME`` is deliberately ignored: it may belong to another project), else
    the data folder's ``dagster/``; write the default ``dagster.yaml`` where there is none (or
    where an earlier version wrote its default), and have asset events written in batches."""
    from pipelines.event_storage import use_batched_events

    configured = os.environ.get("PAPERS_DAGSTER_HOME")
    home = Path(configured).expanduser().absolute() if configured else paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # a JSON string is a YAML string: any folder name is quoted safely
    wanted = INSTANCE_CONFIG.format(mark=INSTANCE_CONFIG_MARK, base_dir=json.dumps(str(home)))
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if (
        current is None
        or current == _EARLIER_INSTANCE_CONFIG
        or (current.startswith(INSTANCE_CONFIG_MARK) and current != wanted)
    ):
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    use_batched_events()


def _locations() -> Locations:
    try:
        return locations_from_env()
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _sync(
    locations: Locations,
    progress: logging.Logger,
    direction: Literal["pull", "push"],
    *,
    landing: bool = True,
    data: bool = True,
) -> None:
    """Pull or push the mirrors of the ``s3://`` folders (nothing to do for local folders)."""
    folders = [
        (name, url, folder)
        for name, url, folder, wanted in (
            ("landing folder", locations.landing_url, locations.paths.landing_dir, landing),
            ("data folder", locations.data_url, locations.paths.data_dir, data),
        )
        if wanted and url is not None
    ]
    if not folders:
        return
    if direction == "pull":
        for name, url, folder in folders:
            progress.info("%s %s, mirrored in %s", name, url, folder)
        sync = locations.pull
        hint = "nothing was done"
    else:
        sync = locations.push
        hint = "what was made is kept in the local mirror: the same command run again publishes it"
    what = " and ".join(url for _, url, _ in folders)
    for report in _transfer(
        lambda: sync(landing=landing, data=data), f"{direction} of {what}", hint
    ):
        progress.info("%s", report.describe())


def _transfer(sync: Callable[[], list[SyncReport]], what: str, hint: str) -> list[SyncReport]:
    """Run a pull or a push; a failure of the store is a clean error, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return sync()
    except (MirrorError, BotoCoreError, ClientError, OSError) as error:
        raise click.ClickException(f"{what} failed: {error}; {hint}") from None


def _quiet_libraries() -> None:
    # the screen is for people; Dagster's own warnings and logs go to the run's log file
    warnings.filterwarnings("ignore")
    logging.getLogger("dagster").setLevel(logging.ERROR)


def _progress_to_screen() -> logging.Logger:
    progress = logging.getLogger("trending_papers.progress")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    return progress


def _report_failure(
    result: object,
    log_path: Path,
    what: str = "BUILD FAILED: nothing was published in this run.",
) -> None:
    from dagster import AssetCheckSeverity, ExecuteInProcessResult

    assert isinstance(result, ExecuteInProcessResult)
    click.echo(f"\n{what}", err=True)
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    for evaluation in failed:
        if evaluation.severity != AssetCheckSeverity.ERROR:
            continue
        if evaluation.check_name == "reject_share":
            click.echo(f"  too many rejects: {evaluation.description}", err=True)
            rules = evaluation.metadata.get("rules")
            for count in (rules.value if rules is not None else [])[:RULES_SHOWN]:  # type: ignore[index]
                click.echo(
                    f"    {count['rule']} x{count['count']}, e.g. {count['example']}", err=True
                )
            click.echo(
                f"  look at an entry:  {_program()} inspect <file> --entry <position>\n"
                "  if these files are right to reject, publish the rest with "
                "PAPERS_MAX_REJECT_SHARE=1 make run",
                err=True,
            )
        else:
            click.echo(
                f"  invariant broken, check {evaluation.check_name}: {evaluation.description}",
                err=True,
            )
            click.echo(
                "  the pipeline itself produced this (data from upstream cannot break it); "
                "the check's failing values are in the log and the UI",
                err=True,
            )
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            if "AssetCheckFailedError" in message:
                continue  # the failed check is reported above, with its reason
            click.echo(f"  step {event.step_key}: {message.splitlines()[0]}", err=True)
            if "No space left on device" in message:
                click.echo(
                    "  the disk of the data folder is full: free space, then run again "
                    "(the previous release and warehouse are untouched)",
                    err=True,
                )
    _report_warnings(result, err=True)
    click.echo(f"  full log: {log_path}", err=True)


def _report_warnings(result: object, *, err: bool = False) -> None:
    """WARN checks that failed: oddities worth a look, never a reason for a failure."""
    from dagster import AssetCheckSeverity, ExecuteInProcessResult

    assert isinstance(result, ExecuteInProcessResult)
    warned = [
        e
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == AssetCheckSeverity.WARN
    ]
    if warned:
        click.echo("  warnings (reported, not blocking):", err=err)
    for evaluation in warned:
        click.echo(f"    {evaluation.check_name}: {evaluation.description}", err=err)


def _report_summary(paths: Paths, log_path: Path, result: object) -> None:
    import polars as pl

    from pipelines.core.curate.stored import read_parts, read_table
    from pipelines.core.ingest.breaker import count_by_rule, repair_counts
    from pipelines.core.ops.resolve import title_only_papers

    files = read_table(paths.curated_dir, "listing_files")
    papers = sum(part.rows for part in read_parts(paths.curated_dir)["papers"].values())
    rejects = read_table(paths.curated_dir, "rejects")
    repairs = read_table(paths.curated_dir, "repairs")
    by_status = dict(files.group_by("status").len().iter_rows())
    latest = (paths.releases_dir / LATEST).resolve()
    click.echo("")
    click.echo("summary")
    click.echo(
        f"  files read:    {files.height:,} "
        f"({by_status.get('ingested', 0):,} ingested, "
        f"{by_status.get('quarantined', 0):,} quarantined, "
        f"{by_status.get('duplicate', 0):,} duplicates)"
    )
    click.echo(
        f"  entries:       {int(files['entries_kept'].sum()):,} kept, "
        f"{int(files['entries_rejected'].sum()):,} rejected"
    )
    click.echo(f"  papers:        {papers:,}")
    by_title = title_only_papers(paths.curated_dir).height
    if by_title:
        click.echo(
            f"    {by_title:,} listed by title alone, without an arXiv id: "
            f"`{_program()} resolve` looks them up online"
        )
    vectors = [part.path for part in read_parts(paths.curated_dir)["paper_embeddings"].values()]
    without = pl.scan_parquet(vectors).select(pl.col("vector").null_count()).collect().item()
    click.echo(
        f"    {papers - without:,} with a vector for search and similar papers "
        f'(`{_program()} search "..."`)'
        + (f"; {without:,} without (no known word in the text)" if without else "")
    )
    click.echo(
        f"  rejects:       {rejects.height:,} (table rejects; quarantine: {paths.quarantine_dir})"
    )
    for count in count_by_rule(rejects, "reason")[:RULES_SHOWN]:
        click.echo(f"    {count.rule} x{count.count}, e.g. {count.example}")
    click.echo(
        f"  repairs:       {repairs.height:,} "
        f"{'value' if repairs.height == 1 else 'values'} repaired or dropped (table repairs)"
    )
    for count in repair_counts(repairs)[:RULES_SHOWN]:
        click.echo(f"    {count.rule} x{count.count}, e.g. {count.example}")
    first = (rejects if rejects.height else repairs).head(1)
    for source_file, position in first.select("source_file", "position").iter_rows():
        entry = "" if position is None else f" --entry {position}"
        click.echo(f"    look at one:  {_program()} inspect {shlex.quote(source_file)}{entry}")
    _report_warnings(result)
    click.echo(f"  release:       {latest}")
    click.echo(
        f"  download page: {paths.releases_dir / 'index.html'} ({_program()} serve to browse it)"
    )
    click.echo(f"  warehouse:     {paths.warehouse_path}")
    click.echo(f"  dagster run:   {result.run_id} (make ui to browse it)")  # type: ignore[attr-defined]
    click.echo(f"  full log:      {log_path}")


def _program() -> str:
    """How the operator can run this command again: the path it was run by (``make run`` runs
    ``.venv/bin/trending-papers``), relative to the current folder when it is under it."""
    invoked = Path(sys.argv[0])
    if invoked.name != "trending-papers":
        return "trending-papers"
    try:
        return str(invoked.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(invoked)


@main.command()
@click.argument("file_key")
@click.option("--entry", "position", type=int, help="Show this entry (1 = first) as written.")
def inspect(file_key: str, position: int | None) -> None:
    """What became of a landed file: its status, rejects and repairs, and an entry as written."""
    from pipelines.core.ops.inspect import describe_file

    paths = _locations().paths
    try:
        click.echo(describe_file(paths, file_key, position))
    except LookupError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.option("--limit", type=int, help="Look up at most this many titles.")
@click.option(
    "--dry-run", is_flag=True, help="List the titles that would be looked up; ask nobody."
)
def resolve(limit: int | None, dry_run: bool) -> None:
    """Look up the arXiv ids of papers listed by title alone; land the answers as a ledger.

    Asks the Hugging Face papers search, then the arXiv API, for each paper of the last build
    that has no arXiv id (``title:`` papers) and no recent answer, and lands every answer in
    ``<landing>/resolutions/`` (``PAPERS_HF_BASE_URL`` and ``PAPERS_ARXIV_BASE_URL`` say where
    to ask).
    """
    from pipelines.core.ops.resolve import (
        resolve_titles,
        settings_from_env,
        title_only_papers,
        titles_due,
    )

    locations = _locations()
    paths = locations.paths
    progress = _progress_to_screen()
    # the last build's papers and the ledger so far, from the s3:// folders when they are such
    _sync(locations, progress, "pull")
    try:
        papers = title_only_papers(paths.curated_dir)
    except FileNotFoundError:
        raise click.ClickException(
            f"no curated papers in {paths.curated_dir}: run `{_program()} build` first"
        ) from None
    settings = settings_from_env()
    due = titles_due(papers, paths.landing_dir, settings, datetime.now(UTC))[:limit]
    click.echo(f"{papers.height:,} papers without an arXiv id; {len(due):,} to look up")
    if dry_run:
        for title in due:
            click.echo(f"  {title.title}")
        return
    click.echo(resolve_titles(due, paths.landing_dir, settings).describe())
    _sync(locations, progress, "push", data=False)


if __name__ == "__main__":
    main()


@main.command()
@click.argument("query")
@click.option(
    "-k",
    "--k",
    "count",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many papers to show.",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only papers listed on or after this day (YYYY-MM-DD).",
)
@click.option("--topic", help="Only papers of this topic (its id or name, e.g. video-generation).")
@click.option(
    "--method",
    type=click.Choice(["blend", "semantic", "keyword"]),
    default=None,
    help="Rank by meaning (semantic), by BM25 (keyword) or by both (blend, the default).",
)
def search(
    query: str, count: int, since: datetime | None, topic: str | None, method: str | None
) -> None:
    """Find the papers of the warehouse that match QUERY, by meaning and by words.

    Embeds QUERY with the model of paper_embeddings, ranks the papers by cosine similarity and
    by BM25 over their titles and abstracts, and blends the two rankings.
    """
    import duckdb
    from rich.console import Console
    from rich.table import Table

    from pipelines.core.publish.search import DEFAULT_METHOD, search_papers

    warehouse = _locations().paths.warehouse_path
    if not warehouse.exists():
        raise click.ClickException(f"no warehouse at {warehouse}: run `make run` first")
    try:
        found = search_papers(
            warehouse,
            query,
            k=count,
            since=since.date() if since is not None else None,
            topic=topic,
            method=method or DEFAULT_METHOD,
        )
    except duckdb.CatalogException as error:
        # a warehouse loaded from a release made before the embeddings
        raise click.ClickException(
            f"the warehouse at {warehouse} cannot be searched ({error}): build again with "
            "`make run` (a release without paper_embeddings is rebuilt with them)"
        ) from None
    if found.is_empty():
        click.echo("no paper matches")
        return
    table = Table(title=f"{found.height} papers for {query!r} ({method or DEFAULT_METHOD})")
    for column, justify in (
        ("#", "right"),
        ("title", "left"),
        ("arXiv id", "left"),
        ("first listed", "left"),
        ("score", "right"),
        ("code", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in found.iter_rows(named=True):
        table.add_row(
            str(row["rank"]),
            row["title"],
            row["arxiv_id"] or "",
            str(row["first_listed_on"] or ""),
            f"{row['score']:.4f}",
            row["code_url"] or "",
        )
    Console(width=max(100, Console().width)).print(table)
