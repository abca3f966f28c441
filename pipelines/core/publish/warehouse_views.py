"""The views and table macros analysts get on day one in the DuckDB file.

Each view is plain SQL over the release tables, with a comment that says what it answers. A view
whose tables are not in the release (an older release, say) is skipped rather than broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class View:
    name: str
    needs: tuple[str, ...]
    comment: str
    sql: str
    # a table macro takes parameters: trending_on(DATE '2025-03-24')
    macro: bool = False
    parameters: tuple[str, ...] = ("day",)
    # comments of the columns the view computes; columns taken from a table keep its comment
    columns: dict[str, str] = field(default_factory=dict)


_RUN_COLUMNS = {
    "run_start": "First listing day of the run.",
    "run_end": "Last listing day of the run.",
    "run_days": "Number of consecutive listing days in the run.",
}

VIEWS: tuple[View, ...] = (
    View(
        name="paper_code",
        needs=("code_links",),
        comment="One code repository per paper: the API's githubRepo first, then a link shown "
        "on a captured page, then one found in the abstract.",
        sql="""
        SELECT paper_id,
               first(url ORDER BY CASE provenance WHEN 'api_githubRepo' THEN 0
                                                  WHEN 'capture_link' THEN 1
                                                  WHEN 'abstract' THEN 2 ELSE 3 END, url)
                   AS code_url,
               count(*) AS repositories
        FROM code_links
        WHERE kind = 'repository'
        GROUP BY paper_id
        """,
        columns={
            "code_url": "The paper's main code repository.",
            "repositories": "How many repositories the paper links.",
        },
    ),
    View(
        name="daily_rankings",
        needs=("observations", "papers", "code_links"),
        comment="Every dated listing of a paper with its rank, upvotes, title and code.",
        sql="""
        SELECT o.listed_on, o.source_format, o.page_kind, o.rank, o.paper_id, p.title,
               o.upvotes, o.comments, c.code_url
        FROM observations AS o
        JOIN papers AS p USING (paper_id)
        LEFT JOIN paper_code AS c USING (paper_id)
        WHERE o.listed_on IS NOT NULL
        """,
        columns={"code_url": "The paper's main code repository (paper_code)."},
    ),
    View(
        name="trending_on",
        needs=("observations", "papers", "code_links"),
        comment="Table macro: the papers listed on a given day, by rank, with their code: "
        "SELECT * FROM trending_on(DATE '2025-03-24').",
        sql="""
        SELECT rank, paper_id, title, upvotes, code_url, source_format
        FROM daily_rankings
        WHERE listed_on = day
        ORDER BY source_format, rank
        """,
        macro=True,
    ),
    View(
        name="listing_runs",
        needs=("observations", "papers"),
        comment="Each unbroken run of a paper on the lists: consecutive listing days (days "
        "without any listing, such as weekends, do not break a run).",
        sql="""
        WITH listing_days AS (
            SELECT DISTINCT listed_on FROM observations WHERE listed_on IS NOT NULL
        ), numbered_days AS (
            SELECT listed_on, row_number() OVER (ORDER BY listed_on) AS day_number
            FROM listing_days
        ), paper_days AS (
            SELECT DISTINCT o.paper_id, d.listed_on, d.day_number
            FROM observations AS o JOIN numbered_days AS d USING (listed_on)
        ), islands AS (
            SELECT paper_id, listed_on,
                   day_number - row_number() OVER (PARTITION BY paper_id ORDER BY listed_on)
                       AS island
            FROM paper_days
        )
        SELECT i.paper_id, p.title, min(i.listed_on) AS run_start, max(i.listed_on) AS run_end,
               count(*) AS run_days
        FROM islands AS i JOIN papers AS p USING (paper_id)
        GROUP BY i.paper_id, p.title, i.island
        """,
        columns=_RUN_COLUMNS,
    ),
    View(
        name="longest_runs",
        needs=("observations", "papers"),
        comment="Papers by their longest unbroken run on the lists, longest first.",
        sql="""
        SELECT paper_id, title, run_days, run_start, run_end
        FROM (
            SELECT *, row_number() OVER (
                PARTITION BY paper_id ORDER BY run_days DESC, run_start) AS nth
            FROM listing_runs
        )
        WHERE nth = 1
        ORDER BY run_days DESC, run_start, paper_id
        """,
        columns=_RUN_COLUMNS,
    ),
    View(
        name="repositories_by_papers",
        needs=("code_links",),
        comment="Code repositories by the number of trending papers that link them.",
        sql="""
        SELECT host, owner, repo,
               first(url ORDER BY url) AS url,
               count(DISTINCT paper_id) AS papers,
               list(DISTINCT paper_id ORDER BY paper_id) AS paper_ids
        FROM code_links
        WHERE kind = 'repository'
        GROUP BY host, owner, repo
        ORDER BY papers DESC, host, owner, repo
        """,
        columns={
            "url": "The repository's link.",
            "papers": "Number of trending papers that link the repository.",
            "paper_ids": "Those papers.",
        },
    ),
    View(
        name="owners_by_papers",
        needs=("code_links",),
        comment="GitHub/GitLab owners (labs, companies, people) by number of trending papers.",
        sql="""
        SELECT host, owner, count(DISTINCT paper_id) AS papers, count(DISTINCT repo) AS repositories
        FROM code_links
        WHERE kind = 'repository'
        GROUP BY host, owner
        ORDER BY papers DESC, host, owner
        """,
        columns={
            "papers": "Number of trending papers linking a repository of this owner.",
            "repositories": "Number of this owner's repositories linked by trending papers.",
        },
    ),
    View(
        name="paper_claims",
        needs=("claims", "papers"),
        comment="The results each paper claims in its abstract, with the evidence text.",
        sql="""
        SELECT c.paper_id, p.title, c.claim_index, c.value, c.unit, c.metric, c.dataset,
               c.evidence
        FROM claims AS c JOIN papers AS p USING (paper_id)
        ORDER BY c.paper_id, c.claim_index
        """,
    ),
    View(
        name="topics_by_week",
        needs=("paper_topics", "observations"),
        comment="Per week (starting Monday) and topic: how many listed papers carry the topic.",
        sql="""
        SELECT CAST(date_trunc('week', o.listed_on) AS DATE) AS week, t.topic,
               any_value(t.topic_name)
                   AS topic_name, any_value(t.kind) AS kind,
               count(DISTINCT o.paper_id) AS papers
        FROM observations AS o JOIN paper_topics AS t USING (paper_id)
        WHERE o.listed_on IS NOT NULL
        GROUP BY week, t.topic
        ORDER BY week, papers DESC, t.topic
        """,
        columns={
            "week": "Monday of the week.",
            "papers": "Papers listed that week with the topic.",
        },
    ),
    View(
        name="similar_to",
        needs=("similar_papers", "papers", "code_links"),
        comment="Table macro: the 10 papers nearest in meaning to a paper, best first: "
        "SELECT * FROM similar_to('2405.14906').",
        sql="""
        SELECT s.rank, s.similar_paper_id AS paper_id, p.title, p.first_listed_on, s.score,
               c.code_url
        FROM similar_papers AS s
        JOIN papers AS p ON p.paper_id = s.similar_paper_id
        LEFT JOIN paper_code AS c ON c.paper_id = s.similar_paper_id
        WHERE s.paper_id = paper
        ORDER BY s.rank
        """,
        macro=True,
        parameters=("paper",),
    ),
    View(
        name="new_papers",
        needs=("release_diff", "papers"),
        comment="Papers new in this release, i.e. not in the previous release.",
        sql="""
        SELECT p.paper_id, p.title, p.first_listed_on, p.peak_upvotes
        FROM release_diff AS d
        JOIN papers AS p ON p.paper_id = json_extract_string(d.key, '$[0]')
        WHERE d."table" = 'papers' AND d.change = 'added'
        ORDER BY p.first_listed_on DESC NULLS LAST, p.paper_id
        """,
    ),
    View(
        name="papers_per_day",
        needs=("observations",),
        comment="How many papers each dated listing holds, per source.",
        sql="""
        SELECT listed_on, source_format, count(DISTINCT paper_id) AS papers,
               sum(upvotes) AS upvotes
        FROM observations
        WHERE listed_on IS NOT NULL
        GROUP BY listed_on, source_format
        ORDER BY listed_on, source_format
        """,
        columns={
            "papers": "Number of papers on that day's listing.",
            "upvotes": "Sum of the upvotes shown on that listing.",
        },
    ),
)


def create_statement(view: View) -> str:
    if view.macro:
        return (
            f'CREATE MACRO "{view.name}"({", ".join(view.parameters)}) AS TABLE {view.sql.strip()}'
        )
    return f'CREATE VIEW "{view.name}" AS {view.sql.strip()}'
