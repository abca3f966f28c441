"""The download page: each release's page, the list of releases, and the snippets they show."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.core.build import build_everything
from pipelines.core.ops.settings import Paths
from pipelines.core.publish.catalog import TABLES
from pipelines.core.publish.release import MANIFEST, publish_release, verify_release
from pipelines.core.publish.site import (
    INDEX_HTML,
    INDEX_JSON,
    PAGE_FILE,
    default_base_url,
    validation_status,
)
from tests.conftest import copy_sample
from tests.support.pages import Links, links_in, three_suite_results

RELEASE = "2026-01-01"
EPOCH = "1767225600"  # 2026-01-01
CHART_SLUGS = ["papers-per-day", "topic-trends", "top-repositories", "top-owners", "code-share"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    """The sample built as release 2026-01-01."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        root = tmp_path_factory.mktemp("site")
        paths = Paths(landing_dir=root / "landing", data_dir=root / "data")
        copy_sample(paths.landing_dir)
        build_everything(paths)
        yield paths


def links_of(page: Path) -> Links:
    return links_in(page.read_text(encoding="utf-8"))


def test_a_release_holds_its_page_charts_and_citation_and_verify_checks_them(
    built: Paths,
) -> None:
    release = built.releases_dir / RELEASE
    documents = json.loads((release / MANIFEST).read_text())["documents"]

    expected = {PAGE_FILE, "CITATION.cff"} | {
        f"charts/{slug}.{kind}" for slug in CHART_SLUGS for kind in ("svg", "csv")
    }
    assert expected <= set(documents)
    assert verify_release(release) == []
    # a page edited after publication is caught
    page = release / PAGE_FILE
    original = page.read_bytes()
    page.write_bytes(original.replace(b"</main>", b"<p>edited</p></main>"))
    try:
        assert verify_release(release) == ["index.html: sha256 does not match the manifest"]
    finally:
        page.write_bytes(original)


def test_the_release_page_lists_every_file_column_and_source(built: Paths) -> None:
    release = built.releases_dir / RELEASE
    manifest = json.loads((release / MANIFEST).read_text())
    text = html.unescape((release / PAGE_FILE).read_text(encoding="utf-8"))

    assert f"release {RELEASE}" in text
    for name, info in manifest["tables"].items():
        assert f'id="table-{name}"' in text
        for part in info["parts"]:
            assert f'<a href="{part["file"]}" download>{part["file"]}</a>' in text
            assert part["sha256"] in text
        for column in info["schema"]:
            assert TABLES[name].columns[column["name"]] in text
    for name in ("README.md", "CHANGELOG.md", "croissant.json", "validation.json", "diff.parquet"):
        assert manifest["documents"][name]["sha256"] in text
    # licences per source: 20 API files under Apache-2.0, 1 page capture
    assert re.search(r"hf_daily_api</td><td><a href=\"[^\"]+\">Apache-2.0</a></td>"
                     r"<td class=\"num\">20</td>", text)  # fmt: skip
    assert 'unknown (Hugging Face terms of service)</td><td class="num">1</td>' in text
    # validation is not run by build_everything: the page says so
    assert "No validation results were published with this release." in text
    assert f"trending-papers verify {RELEASE}" in text
    assert "cff-version: 1.2.0" in text and "@misc{trending_papers_2026_01_01," in text
    assert f'BASE = "{default_base_url(RELEASE)}"' in text
    # every chart as a picture with its alt text, a caption and its data
    for slug in CHART_SLUGS:
        assert re.search(rf'<img src="charts/{slug}.svg" alt="[^"]{{40,}}"', text), slug
        assert f'<a href="charts/{slug}.csv" download>' in text
    assert text.count("<figcaption>") == len(CHART_SLUGS)


def test_every_link_of_the_pages_is_relative_and_resolves(built: Paths) -> None:
    pages = [built.releases_dir / INDEX_HTML, built.releases_dir / RELEASE / PAGE_FILE]
    for page in pages:
        found = links_of(page)
        assert found.links
        for link in found.links:
            if link == "data:,":
                continue  # the empty icon, so that browsers ask for no favicon
            if link.startswith("https://"):
                # only the licences' own pages are elsewhere
                assert "licenses" in link or "opensource.org" in link, link
                continue
            assert "://" not in link and not link.startswith("/"), link
            target, _, fragment = link.partition("#")
            resolved = (page.parent / target).resolve() if target else page
            assert resolved.is_file(), f"{page.name}: {link}"
            if fragment:
                assert fragment in links_of(resolved).ids, f"{page.name}: {link}"


def test_the_list_of_releases_for_programs(built: Paths) -> None:
    index = json.loads((built.releases_dir / INDEX_JSON).read_text())

    assert index["latest"] == RELEASE
    assert [release["release_id"] for release in index["releases"]] == [RELEASE]
    release = index["releases"][0]
    assert release["page"] == f"{RELEASE}/index.html"
    assert release["created_at"] == "2026-01-01T00:00:00+00:00"
    assert release["validation"] == {
        "status": "not recorded", "suites": 0, "suites_passed": 0, "expectations": 0, "failed": 0,
    }  # fmt: skip
    assert release["changes"]["papers"] == {"added": 380, "removed": 0, "changed": 0}
    assert release["tables"]["papers"]["rows"] == 380
    urls = [part["url"] for info in release["tables"].values() for part in info["parts"]]
    # 33 parts of the curated tables, 5 each of paper_embeddings and similar_papers
    assert len(urls) == 43
    assert all((built.releases_dir / url).is_file() for url in urls)
    page = (built.releases_dir / INDEX_HTML).read_text(encoding="utf-8")
    assert f'<a href="{RELEASE}/index.html">{RELEASE}</a>' in page
    assert "+380 &minus;0 ~0" in page
    assert f"trending-papers verify {RELEASE}" in page


def test_validation_status_sums_up_the_suites_as_the_card_reads_them() -> None:
    status = validation_status(three_suite_results("code_links.warn"))

    assert status.as_json() == {
        "status": "failed", "suites": 3, "suites_passed": 2, "expectations": 28, "failed": 1,
    }  # fmt: skip
    assert [row["suite"] for row in status.rows] == [
        "code_links.warn", "observations.error", "papers.error",
    ]  # fmt: skip
    assert status.rows[0]["met"] == 4 and status.rows[0]["result"] == "failed"
    assert validation_status([]).status == "not recorded"


def _snippet(page: Path, name: str) -> str:
    text = page.read_text(encoding="utf-8")
    match = re.search(rf'<h3 id="loading-{name}">.*?<pre><code>(.*?)</code></pre>', text, re.S)
    assert match is not None, name
    return html.unescape(match.group(1))


def _with_base(snippet: str, base: str) -> str:
    line = re.compile(r'^BASE = "[^"]+"', re.M)
    assert line.search(snippet) is not None
    return line.sub(f"BASE = {base!r}", snippet)


def test_the_python_snippets_load_the_papers(built: Paths) -> None:
    release = built.releases_dir / RELEASE
    page = release / PAGE_FILE
    expected = pl.read_parquet(release / "papers" / "*.parquet")

    # a local folder is a base too (the HTTP base is tested against trending-papers serve)
    scope: dict[str, Any] = {}
    exec(_with_base(_snippet(page, "polars"), str(release)), scope)
    assert scope["papers"].equals(expected)
    scope = {}
    exec(_with_base(_snippet(page, "pyarrow"), release.as_uri()), scope)
    assert pl.from_arrow(scope["papers"]).equals(expected)  # type: ignore[union-attr]
    scope = {}
    exec(_with_base(_snippet(page, "datasets"), str(release)), scope)
    assert scope["papers"].num_rows == 380


def test_the_duckdb_snippet_counts_the_papers(built: Paths) -> None:
    import duckdb

    release = built.releases_dir / RELEASE
    sql = _snippet(release / PAGE_FILE, "duckdb")
    sql = re.sub(r"SET VARIABLE base = '[^']+'", f"SET VARIABLE base = '{release}'", sql)

    with duckdb.connect() as connection:
        # the comment on httpfs is for readers over http(s); a local folder needs no extension
        code = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
        *statements, last = [s for s in code.split(";") if s.strip()]
        for statement in statements:
            connection.execute(statement)
        assert connection.execute(last).fetchall() == [(380,)]


def test_building_twice_gives_byte_identical_site_files(
    built: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    again = Paths(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    copy_sample(again.landing_dir)
    build_everything(again)

    def site_files(releases: Path) -> dict[str, bytes]:
        files = [INDEX_HTML, INDEX_JSON, f"{RELEASE}/{PAGE_FILE}", f"{RELEASE}/CITATION.cff"]
        files += [str(p.relative_to(releases)) for p in (releases / RELEASE / "charts").iterdir()]
        return {name: (releases / name).read_bytes() for name in sorted(files)}

    first, second = site_files(built.releases_dir), site_files(again.releases_dir)
    assert len(first) == 4 + 2 * len(CHART_SLUGS)
    assert first == second


def test_the_list_follows_retention(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    papers = pl.DataFrame(
        {"paper_id": ["2401.00001"], "title": ["One"], "first_listed_on": [date(2024, 1, 2)]}
    )
    for version in range(3):
        publish_release(
            {"papers": papers.with_columns(pl.lit(f"Title {version}").alias("title"))},
            releases,
            sources=[],
            code_version="test",
            build_date=date(2026, 1, 1),
            retention=2,
        )

    index = json.loads((releases / INDEX_JSON).read_text())
    assert [release["release_id"] for release in index["releases"]] == [
        "2026-01-01.3", "2026-01-01.2",
    ]  # fmt: skip
    assert index["latest"] == "2026-01-01.3"
    page = (releases / INDEX_HTML).read_text(encoding="utf-8")
    assert "2026-01-01.2/index.html" in page and '"2026-01-01/index.html"' not in page
    assert [p.name for p in releases.iterdir() if p.name.startswith(".")] == []


def test_text_from_the_data_is_escaped_on_the_page(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    tables = {
        "papers": pl.DataFrame(
            {
                "paper_id": ["<b>x</b>"],
                "title": ["<script>alert(1)</script>"],
                "first_listed_on": [None],
            },
            schema_overrides={"first_listed_on": pl.Date()},
        ),
        "listing_files": pl.DataFrame(
            {"file_key": ["a.json"], "source_format": ["hf_daily_api"], "licence": ["<i>odd</i>"]}
        ),
    }
    publish_release(tables, releases, sources=[], code_version="test", build_date=date(2026, 1, 1))

    page = (releases / RELEASE / PAGE_FILE).read_text(encoding="utf-8")
    assert "<i>odd</i>" not in page and "&lt;i&gt;odd&lt;/i&gt;" in page
    assert "<script" not in page
