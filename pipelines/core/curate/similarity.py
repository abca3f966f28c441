"""Papers by meaning: an embedding of each paper's text, and each paper's ten nearest papers.

**The model.** WordLlama's ``l2_supercat`` token embeddings (256 dimensions), which its wheel
ships inside the package (``wordllama/weights``, ``wordllama/tokenizers``), so nothing is
downloaded, here or in CI. It is a static model (no attention): a text's vector is the sum of
its tokens' vectors scaled to unit length, a thousand or more abstracts a second on these
machines, and the same text always gives the same vector whatever else is embedded with it.
Models that read the context (sentence-transformers, fastembed's ONNX models) embed better but
fetch their weights from a hub at run time and need far more CPU per text; model2vec's static
models are fetched too. WordLlama's own loader looks for its tokenizer in a folder its wheel
does not use and then downloads it, so the files are opened here from the package directly
(with ``tokenizers`` and ``safetensors``, which it installs).

**The neighbours.** Exact: every paper is compared with every other paper. Scores are the dot
products of the unit vectors (their cosine similarity). A matrix product in float32 picks, per
paper, every candidate within :data:`CANDIDATE_MARGIN` of its tenth score; the candidates are
then scored again one pair at a time in float64 and rounded to float32. The published score of a
pair therefore does not depend on which other papers were in the same matrix product, which is
what lets an incremental build give the same bytes as a full one: the float32 product's error
(about 1e-6 for 256 dimensions) is far below the margin, so no true neighbour is missed. Ties
are broken by the neighbour's id.

**Incrementally** (:func:`update_similar_papers`): a paper whose text is new or changed gets its
list from all papers; a paper whose list held a changed or removed paper is listed again from
all papers; any other paper keeps its list, into which a new or changed paper enters only if it
beats the list's tenth.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl
import scipy.sparse
from safetensors import safe_open
from tokenizers import Tokenizer

DIMENSIONS = 256
NEIGHBOURS = 10
MODEL_CONFIG = "l2_supercat"
# the model column: which weights made a vector (a vector of another model is never reused)
MODEL = f"wordllama-{importlib.metadata.version('wordllama')}/{MODEL_CONFIG}_{DIMENSIONS}"
# far above float32's error on a 256-dimension dot product of unit vectors (about 1e-6)
CANDIDATE_MARGIN = 1e-4
TEXTS_PER_CHUNK = 4096
# scores of one block of papers against all papers held at once: 2**25 float32 (128 MiB)
BLOCK_SCORES = 1 << 25
# above this many papers a full listing takes its candidates from a graph: every pair would be
# 1.3e11 on the stress shape, about half an hour (bench/README.md, "Papers by meaning")
EXACT_LIMIT = 50_000
# the graph's settings: 16 links per node and wide searches keep recall@10 above 0.99 at 100k
GRAPH_CONNECTIVITY = 16
GRAPH_EXPANSION_ADD = 128
GRAPH_EXPANSION_SEARCH = 64
GRAPH_CANDIDATES = 32

VECTOR_TYPE = pl.Array(pl.Float32(), DIMENSIONS)
EMBEDDINGS_SCHEMA = pl.Schema(
    {"paper_id": pl.String(), "model": pl.String(), "vector": VECTOR_TYPE}
)
SIMILAR_SCHEMA = pl.Schema(
    {
        "paper_id": pl.String(),
        "rank": pl.Int8(),
        "similar_paper_id": pl.String(),
        "score": pl.Float32(),
    }
)


@dataclass(frozen=True)
class EmbeddingModel:
    """WordLlama's tokenizer and its table of token vectors (one float32 row per token id)."""

    tokenizer: Tokenizer
    token_vectors: np.ndarray


def _package_folder(name: str) -> Path:
    """Where an installed package's files are, without importing it: importing ``wordllama``
    sets the root logger to INFO (``logging.basicConfig``), which would print every library's
    chatter on the build's screen."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def embedding_model() -> EmbeddingModel:
    """The model, from the files inside the ``wordllama`` package (loaded once per process)."""
    package = _package_folder("wordllama")
    tokenizer = Tokenizer.from_file(
        str(package / "tokenizers" / f"{MODEL_CONFIG}_tokenizer_config.json")
    )
    tokenizer.no_padding()
    tokenizer.no_truncation()
    weights = package / "weights" / f"{MODEL_CONFIG}_{DIMENSIONS}.safetensors"
    with safe_open(str(weights), framework="np", device="cpu") as tensors:
        token_vectors = np.ascontiguousarray(tensors.get_tensor("embedding.weight"), np.float32)
    return EmbeddingModel(tokenizer, token_vectors)


def embed_texts(texts: list[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text): the sum of the text's token vectors, scaled to
    unit length (the direction of WordLlama's mean pooling).

    The sum is a sparse product of each text's token counts with the token vectors: one row per
    text, each added up in token-id order on its own, so a text gets the same bytes whatever
    else is embedded with it (an incremental build relies on it), and 2.4 times faster than
    WordLlama's padded batches (2.5 s against 6.0 s for the archive's 3,062 texts). A text
    without a known token gets a row of NaN: it has no direction, and the caller publishes no
    vector for it.
    """
    if not texts:
        return np.empty((0, DIMENSIONS), dtype=np.float32)
    # the tokenizer's encodings are large (offsets, masks...): a few thousand texts at a time
    return np.vstack(
        [
            _embed_chunk(texts[start : start + TEXTS_PER_CHUNK])
            for start in range(0, len(texts), TEXTS_PER_CHUNK)
        ]
    )


def _embed_chunk(texts: list[str]) -> np.ndarray:
    model = embedding_model()
    encoded = model.tokenizer.encode_batch(texts, add_special_tokens=False)
    lengths = np.fromiter((len(text.ids) for text in encoded), dtype=np.int64, count=len(texts))
    token_ids = np.fromiter(
        (token for text in encoded for token in text.ids), dtype=np.int64, count=int(lengths.sum())
    )
    counts = scipy.sparse.csr_matrix(
        (
            np.ones(token_ids.size, dtype=np.float32),
            (np.repeat(np.arange(len(texts)), lengths), token_ids),
        ),
        shape=(len(texts), model.token_vectors.shape[0]),
    )
    counts.sum_duplicates()
    summed = np.asarray(counts @ model.token_vectors, dtype=np.float32)
    lengths = np.linalg.norm(summed, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (summed / np.where(lengths > 0, lengths, np.nan)).astype(np.float32)


def paper_text() -> pl.Expr:
    """What a paper's vector is made of: its title, then its abstract."""
    return pl.concat_str(
        pl.col("title").fill_null(""), pl.col("abstract").fill_null(""), separator="\n\n"
    ).str.strip_chars()


def embed_papers(papers: pl.DataFrame) -> pl.DataFrame:
    """``paper_embeddings`` rows for ``papers`` (``paper_id``, ``title``, ``abstract``), sorted by
    paper; a paper whose text has no known token gets a null vector."""
    texts = papers.select(paper_text()).to_series().to_list()
    vectors = embed_texts(texts)
    finite = cast("np.ndarray", np.isfinite(vectors).all(axis=1))
    has_direction = pl.Series("has_direction", finite, dtype=pl.Boolean())
    return (
        pl.DataFrame(
            {
                "paper_id": papers["paper_id"],
                "model": pl.Series([MODEL] * papers.height, dtype=pl.String()),
                "vector": pl.Series(vectors, dtype=VECTOR_TYPE),
            },
            schema=EMBEDDINGS_SCHEMA,
        )
        .with_columns(pl.when(has_direction).then(pl.col("vector")).alias("vector"))
        .sort("paper_id")
    )


@dataclass(frozen=True)
class VectorIndex:
    """The papers that have a vector, sorted by id, and their vectors as float32 rows."""

    ids: np.ndarray
    vectors: np.ndarray

    @classmethod
    def of(cls, embeddings: pl.DataFrame) -> VectorIndex:
        present = embeddings.filter(pl.col("vector").is_not_null()).sort("paper_id")
        vectors = present["vector"].to_numpy().reshape(present.height, DIMENSIONS)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = present["paper_id"].to_numpy().astype(object)
        return cls(ids=ids, vectors=vectors)

    def positions(self, paper_ids: pl.Series) -> np.ndarray:
        """Where each of ``paper_ids`` (all in the index) is."""
        return np.searchsorted(self.ids, paper_ids.to_numpy().astype(object))

    def exact_scores(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """The published score of each pair (``left[i]``, ``right[i]``): float64 dot products
        one pair at a time, rounded to float32 (the float64 copies are made per call: a copy of
        every vector would take 735 MB on the stress shape)."""
        products = self.vectors[left].astype(np.float64) * self.vectors[right].astype(np.float64)
        return products.sum(axis=1).astype(np.float32)


def _ranked(pairs: pl.DataFrame, keep: int = NEIGHBOURS) -> pl.DataFrame:
    """The ``keep`` best of each paper's candidate pairs, by score then neighbour id."""
    return (
        pairs.unique(["paper_id", "similar_paper_id"])
        .sort(["paper_id", "score", "similar_paper_id"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int8()).over("paper_id").alias("rank"))
        .filter(pl.col("rank") <= keep)
        .select(SIMILAR_SCHEMA.names())
    )


def _pairs(index: VectorIndex, left: np.ndarray, right: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "paper_id": pl.Series(index.ids[left], dtype=pl.String()),
            "similar_paper_id": pl.Series(index.ids[right], dtype=pl.String()),
            "score": pl.Series(index.exact_scores(left, right), dtype=pl.Float32()),
        }
    )


def _blocks(rows: np.ndarray, width: int) -> Iterator[np.ndarray]:
    step = max(1, BLOCK_SCORES // max(width, 1))
    for start in range(0, rows.size, step):
        yield rows[start : start + step]


def nearest_papers(index: VectorIndex, queries: np.ndarray) -> pl.DataFrame:
    """The :data:`NEIGHBOURS` nearest papers of each paper at ``queries`` (positions in the
    index), among all papers of the index but itself."""
    total = index.ids.size
    keep = min(NEIGHBOURS, total - 1)
    if keep < 1 or queries.size == 0:
        return pl.DataFrame(schema=SIMILAR_SCHEMA)
    found = []
    for block in _blocks(queries, total):
        scores = index.vectors[block] @ index.vectors.T
        scores[np.arange(block.size), block] = -np.inf
        tenth = np.partition(scores, total - keep, axis=1)[:, total - keep]
        rows, columns = np.nonzero(scores >= (tenth - CANDIDATE_MARGIN)[:, None])
        found.append(_pairs(index, block[rows], columns))
    return _ranked(pl.concat(found))


def similar_papers(embeddings: pl.DataFrame, *, exact: bool | None = None) -> pl.DataFrame:
    """``similar_papers`` from scratch: each paper's ten nearest among all papers.

    Every pair is compared up to :data:`EXACT_LIMIT` papers (or when ``exact``); above it (or
    when ``exact`` is false) each paper's candidates come from an HNSW graph
    (:func:`approximate_nearest_papers`), and are scored exactly like the others.
    """
    index = VectorIndex.of(embeddings)
    if exact is None:
        exact = index.ids.size <= EXACT_LIMIT
    if exact:
        return nearest_papers(index, np.arange(index.ids.size))
    return approximate_nearest_papers(index)


def approximate_nearest_papers(index: VectorIndex) -> pl.DataFrame:
    """Each paper's ten nearest among the :data:`GRAPH_CANDIDATES` an HNSW graph (``usearch``)
    finds for it, scored and ranked exactly as :func:`nearest_papers` does.

    The graph is built on one thread, the papers added in id order, so the same vectors give the
    same graph and the same lists (on the same kind of CPU: the distance kernels are chosen per
    CPU). ``bench/neighbours.py`` measures its recall against the exact lists.
    """
    from usearch.index import BatchMatches, Index

    total = index.ids.size
    keep = min(NEIGHBOURS, total - 1)
    if keep < 1:
        return pl.DataFrame(schema=SIMILAR_SCHEMA)
    graph = Index(
        ndim=DIMENSIONS,
        metric="ip",
        dtype="f32",
        connectivity=GRAPH_CONNECTIVITY,
        expansion_add=GRAPH_EXPANSION_ADD,
        expansion_search=GRAPH_EXPANSION_SEARCH,
    )
    graph.add(np.arange(total, dtype=np.uint64), index.vectors, threads=1)
    wanted = min(GRAPH_CANDIDATES + 1, total)
    found = graph.search(index.vectors, wanted, threads=0)
    assert isinstance(found, BatchMatches)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(total, wanted)
    counts = np.asarray(found.counts, dtype=np.int64).reshape(total)
    listed = []
    for block in _blocks(np.arange(total), wanted * DIMENSIONS):
        rows = np.repeat(block, wanted)
        columns = keys[block].ravel()
        # the graph's own padding past a short result, and the paper itself
        usable = (np.tile(np.arange(wanted), block.size) < np.repeat(counts[block], wanted)) & (
            columns != rows
        )
        listed.append(_ranked(_pairs(index, rows[usable], columns[usable]), keep))
    return pl.concat(listed)


def update_similar_papers(
    embeddings: pl.DataFrame, previous: pl.DataFrame, changed: pl.Series, removed: pl.Series
) -> pl.DataFrame:
    """``similar_papers`` after some papers' vectors changed, from the previous lists.

    ``changed``: the papers whose vector is new or different (or now null); ``removed``: the
    papers no longer in the tables. Equal, row for row, to :func:`similar_papers` of
    ``embeddings`` (``tests/core/test_similarity.py``).
    """
    return updated_lists(embeddings, previous, changed, removed)[0]


def updated_lists(
    embeddings: pl.DataFrame, previous: pl.DataFrame, changed: pl.Series, removed: pl.Series
) -> tuple[pl.DataFrame, pl.Series]:
    """:func:`update_similar_papers`, and the papers whose list is not the one they had."""
    index = VectorIndex.of(embeddings)
    gone = pl.concat([changed, removed]).unique()
    fresh = changed.filter(changed.is_in(pl.Series(index.ids, dtype=pl.String())))
    kept = previous.filter(~pl.col("paper_id").is_in(gone.implode()))
    # a list that held a paper now changed or gone may have lost a neighbour: list it again
    broken = kept.filter(pl.col("similar_paper_id").is_in(gone.implode()))["paper_id"].unique()
    # and a paper that had no list (it was alone) gets one
    listed = kept["paper_id"].unique()
    unlisted = pl.Series(index.ids, dtype=pl.String()).filter(
        ~pl.Series(index.ids).is_in(listed.implode())
    )
    again = pl.concat([fresh, broken, unlisted]).unique().sort()
    relisted = nearest_papers(index, index.positions(again))
    intact = kept.filter(~pl.col("paper_id").is_in(broken.implode()))
    merged, entered = _merge_into_lists(index, intact, index.positions(fresh))
    lists = pl.concat([merged, relisted]).sort("paper_id", "rank")
    before = previous.filter(pl.col("paper_id").is_in(again.implode()))
    differ = pl.concat([entered, _differing(relisted, before), gone]).unique().sort()
    return lists, differ


def _differing(lists: pl.DataFrame, before: pl.DataFrame) -> pl.Series:
    """The papers whose rows in ``lists`` and ``before`` (the same papers' lists) differ."""
    columns = SIMILAR_SCHEMA.names()
    return pl.concat(
        [
            lists.join(before, on=columns, how="anti")["paper_id"],
            before.join(lists, on=columns, how="anti")["paper_id"],
        ]
    )


def _merge_into_lists(
    index: VectorIndex, lists: pl.DataFrame, entering: np.ndarray
) -> tuple[pl.DataFrame, pl.Series]:
    """Each of ``lists`` with any of the papers at ``entering`` that beats its tenth, and the
    papers whose list changed. Only the lists a candidate reaches are ranked again."""
    nobody = pl.Series("paper_id", [], dtype=pl.String())
    if entering.size == 0 or lists.is_empty():
        return lists, nobody
    total = index.ids.size
    keep = min(NEIGHBOURS, total - 1)
    bars = (
        lists.group_by("paper_id")
        .agg(pl.when(pl.len() >= keep).then(pl.col("score").min()).otherwise(-np.inf).alias("bar"))
        .sort("paper_id")
    )
    holders = index.positions(bars["paper_id"])
    bar = bars["bar"].to_numpy()
    found = []
    for block in _blocks(np.arange(holders.size), entering.size):
        scores = index.vectors[holders[block]] @ index.vectors[entering].T
        # a paper never enters its own list
        scores[holders[block][:, None] == entering[None, :]] = -np.inf
        rows, columns = np.nonzero(scores >= (bar[block] - CANDIDATE_MARGIN)[:, None])
        found.append(_pairs(index, holders[block][rows], entering[columns]))
    candidates = pl.concat(found)
    reached = candidates["paper_id"].unique().implode()
    old = lists.filter(pl.col("paper_id").is_in(reached))
    new = _ranked(pl.concat([old.select("paper_id", "similar_paper_id", "score"), candidates]))
    untouched = lists.filter(~pl.col("paper_id").is_in(reached))
    return pl.concat([untouched, new]), _differing(new, old)


def embed_new_texts(
    papers: pl.DataFrame, known: tuple[pl.DataFrame, pl.DataFrame] | None
) -> tuple[pl.DataFrame, int]:
    """``paper_embeddings`` for ``papers``, and how many texts were embedded: a vector of
    ``known`` (an earlier ``(papers, paper_embeddings)``, same model) is kept for a paper whose
    title and abstract are the same, since a text's vector depends on nothing else."""
    if known is None or not _same_model(known[1]):
        return embed_papers(papers), papers.height
    text = ["paper_id", "title", "abstract"]
    same_text = papers.select(text).join(
        known[0].select(text), on=text, how="semi", nulls_equal=True
    )
    kept = known[1].join(same_text.select("paper_id"), on="paper_id", how="semi")
    new = papers.select(text).join(kept.select("paper_id"), on="paper_id", how="anti")
    return pl.concat([kept.select(EMBEDDINGS_SCHEMA.names()), embed_papers(new)]).sort(
        "paper_id"
    ), new.height


@dataclass(frozen=True)
class NeighbourTables:
    """``paper_embeddings`` and ``similar_papers`` of a build, and the papers whose rows in
    either differ from the previous build's (None: all may differ)."""

    embeddings: pl.DataFrame
    similar: pl.DataFrame
    changed: pl.Series | None
    embedded: int
    # the papers whose vector is new, changed or gone (None: any may be); a subset of changed
    revectored: pl.Series | None = None


def neighbour_tables(
    papers: pl.DataFrame,
    known: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    update: tuple[pl.DataFrame, pl.Series] | None = None,
) -> NeighbourTables:
    """Both tables from ``papers`` (``paper_id``, ``title``, ``abstract``).

    ``known`` is the previous build's ``(papers, paper_embeddings)``: the vectors of unchanged
    texts are kept (unless they come from another model). ``update`` is the previous build's
    ``similar_papers`` and the papers curated again since (the only ones whose text may
    differ): then the lists are updated, not rebuilt, and only those papers' texts compared.
    """
    if known is None or update is None or not _same_model(known[1]):
        embeddings, embedded = embed_new_texts(papers, known)
        return NeighbourTables(embeddings, similar_papers(embeddings), None, embedded)
    (before_papers, before_embeddings), (before_similar, touched) = known, update
    text = ["paper_id", "title", "abstract"]
    ids = touched.to_frame("paper_id")
    now = papers.select(text).join(ids, on="paper_id", how="semi")
    before = before_papers.select(text).join(ids, on="paper_id", how="semi")
    changed = now.join(before, on=text, how="anti", nulls_equal=True)
    removed = before.join(now, on="paper_id", how="anti")["paper_id"]
    stale = pl.concat([changed["paper_id"], removed])
    embeddings = pl.concat(
        [
            before_embeddings.filter(~pl.col("paper_id").is_in(stale.implode())),
            embed_papers(changed),
        ]
    ).sort("paper_id")
    similar, relisted = updated_lists(embeddings, before_similar, changed["paper_id"], removed)
    return NeighbourTables(
        embeddings,
        similar,
        pl.concat([stale, relisted]).unique().sort(),
        changed.height,
        stale.unique().sort(),
    )


def _same_model(embeddings: pl.DataFrame) -> bool:
    return embeddings.is_empty() or set(embeddings["model"].unique().to_list()) == {MODEL}
