"""arXiv ids, text normalisation and link normalisation, as whole-column expressions."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from pipelines.core.arxiv import VERSIONLESS_ID, arxiv_id, arxiv_version
from pipelines.core.curate.links import normalise_links, urls_in_text
from pipelines.core.ingest.batches import INGEST_BATCH_FILES, ingest_batches
from pipelines.core.ingest.entries import ListingInput, parse_file, parse_listings
from pipelines.core.ingest.landing import sha256_hex
from pipelines.core.ingest.store import RawRecord
from pipelines.core.text import _FOLDABLE_SPACE, clean_text, title_key
from tests.conftest import CAPTURE_NAME


def test_arxiv_ids_of_both_styles_lose_their_version() -> None:
    raw = [
        "2501.00663", "0704.0001v3", "hep-th/9901001", "math.GT/0309136v2", "arXiv:2405.15738v1",
        "https://arxiv.org/abs/2405.15738", "https://huggingface.co/papers/2502.01234",
        "12345", "abc/123", "2405.1573", None,
    ]  # fmt: skip
    frame = pl.DataFrame({"raw": raw}).select(
        arxiv_id("raw").alias("id"), arxiv_version("raw").alias("version")
    )
    assert frame["id"].to_list() == [
        "2501.00663", "0704.0001", "hep-th/9901001", "math.GT/0309136", "2405.15738",
        "2405.15738", "2502.01234", None, None, None, None,
    ]  # fmt: skip
    assert frame["version"].to_list() == [None, 3, None, 2, 1, None, None, None, None, None, None]
    assert frame["id"].drop_nulls().str.contains(VERSIONLESS_ID).all()


def test_clean_text_unwraps_collapses_and_removes_invisible_characters() -> None:
    raw = ["pre-\ntrained  models\\\nwork", "x\u202ey\x00z\u200b", "Cafe\u0301 ", None]
    cleaned = pl.DataFrame({"t": raw}).select(clean_text("t"))["t"].to_list()
    assert cleaned == ["pre-trained models work", "xyz", "Café", None]


def test_title_key_folds_case_punctuation_dashes_and_latex() -> None:
    titles = [
        "Foo--Bar: A $\\alpha$-Study",
        "foo — bar  a ALPHA study",
        "Foo-Bar: a \\textbf{Alpha} Study!",
        "Foo Bar: A Beta Study",
    ]
    keys = pl.DataFrame({"t": titles}).select(title_key("t"))["t"].to_list()
    assert keys[0] == keys[1] == keys[2] == "foo bar a alpha study"
    assert keys[3] != keys[0]


def _links(texts: list[str]) -> pl.DataFrame:
    found = pl.DataFrame({"t": texts}).select(urls_in_text("t").alias("url_raw"))
    return normalise_links(found.explode("url_raw").drop_nulls()).collect()


def test_github_links_reduce_to_owner_and_repo() -> None:
    links = _links(
        [
            "Code: https://github.com/sail-sg/volo. See github.com/uynaes/RankingAwareCLIP.",
            "https://GitHub.com/Open-Lab/Repo.git and https://gitlab.com/g/r/-/tree/main),",
        ]
    )
    assert links.select("url", "owner", "repo", "owner_display", "kind").rows() == [
        ("https://github.com/sail-sg/volo", "sail-sg", "volo", "sail-sg", "repository"),
        ("https://github.com/uynaes/RankingAwareCLIP", "uynaes", "rankingawareclip", "uynaes",
         "repository"),
        ("https://github.com/Open-Lab/Repo", "open-lab", "repo", "Open-Lab", "repository"),
        ("https://gitlab.com/g/r", "g", "r", "g", "repository"),
    ]  # fmt: skip


def test_link_kinds_and_links_that_are_not_code() -> None:
    links = _links(
        [
            "Project page: https://foo.github.io/proj/. Data: https://huggingface.co/datasets/a/b,"
            " demo https://huggingface.co/spaces/x/y), weights https://huggingface.co/org/m;"
            " paper https://arxiv.org/abs/2401.00001 and https://doi.org/10.1/x"
        ]
    )
    assert links.select("url", "kind").rows() == [
        ("https://foo.github.io/proj", "project_page"),
        ("https://huggingface.co/datasets/a/b", "dataset"),
        ("https://huggingface.co/spaces/x/y", "demo"),
        ("https://huggingface.co/org/m", "model"),
    ]


def test_the_capture_has_17_abstracts_with_a_github_repository(sample_landing: Path) -> None:
    data = (sample_landing / "trending-page" / CAPTURE_NAME).read_bytes()
    entries = parse_file(data, f"trending-page/{CAPTURE_NAME}", sha256_hex(data)).entries
    links = normalise_links(
        entries.select("title", urls_in_text("abstract").alias("url_raw")).explode("url_raw")
    ).collect()
    repositories = links.filter(pl.col("kind") == "repository")
    assert repositories["title"].n_unique() == 17
    assert "https://github.com/sail-sg/volo" in repositories["url"].to_list()
    assert "https://github.com/uynaes/RankingAwareCLIP" in repositories["url"].to_list()


def test_files_read_together_give_what_each_gives_alone(shared_data: Path) -> None:
    # a batch mixes formats, files without entries, an unreadable file and a file whose entries
    # repeat the next file's: repeats and ranks stay per file
    paths = sorted(p for p in shared_data.rglob("*") if p.is_file() and p.name != "LICENSE")
    inputs = [
        ListingInput(p.read_bytes(), str(p.relative_to(shared_data)), sha256_hex(p.read_bytes()))
        for p in paths
    ]
    inputs.append(ListingInput(b"", "empty.json", "e"))
    inputs.append(ListingInput(inputs[0].data, "copy-of-first.json", inputs[0].sha256))
    together = parse_listings(inputs)
    assert [p.file_key for p in together] == [item.file_key for item in inputs]
    for item, batch in zip(inputs, together, strict=True):
        alone = parse_listings([item])[0]
        assert batch.entries.equals(alone.entries), item.file_key
        assert batch.rejects.equals(alone.rejects), item.file_key
        assert (batch.source_format, batch.file_error, batch.page_kind, batch.size) == (
            alone.source_format,
            alone.file_error,
            alone.page_kind,
            alone.size,
        )
    # every API record and capture entry of the archive, and the copy of the first file again
    assert sum(p.entries.height for p in together) == 2_993 + 69 + together[0].entries.height
    assert together[-2].file_error == "file is empty"


def test_ingest_batches_are_bounded_in_files_and_bytes() -> None:
    def record(key: str, size: int) -> RawRecord:
        return RawRecord(key, "sha", size, "landed", "snapshot", None)

    mib = 1024 * 1024
    sizes = [30 * mib, 30 * mib, 30 * mib, 100 * mib, 1 * mib]
    records = [record(f"f{n}", size) for n, size in enumerate(sizes)]
    # 64 MiB a batch: two 30 MiB files fit, the third starts a batch, a 100 MiB file is alone
    keys = [[record.file_key for record in batch] for batch in ingest_batches(records)]
    assert keys == [["f0", "f1"], ["f2"], ["f3"], ["f4"]]
    small = [record(f"s{n:04d}", 1_000) for n in range(INGEST_BATCH_FILES * 2 + 1)]
    assert [len(batch) for batch in ingest_batches(small)] == [250, 250, 1]
    assert ingest_batches([]) == []


@given(
    st.lists(st.text(alphabet=st.sampled_from("ab \t\n\r\u00a0\u2009\u3000\x0b\x0c.")), max_size=30)
)
def test_folding_white_space_runs_equals_folding_every_white_space(texts: list[str]) -> None:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    every = frame.select(pl.col("t").str.replace_all(r"\s+", " "))
    runs = frame.select(pl.col("t").str.replace_all(_FOLDABLE_SPACE, " "))
    assert runs.equals(every)
