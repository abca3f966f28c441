"""Numeric result claims stated in paper abstracts, extracted as whole Polars columns.

A *claim* is one number that an abstract reports as the measured outcome of an evaluation: a
score on a metric or benchmark, an improvement over a baseline, or a speed-up. Baseline numbers
that the abstract reports next to the paper's own (``from 84.1% to 86.3%``) are claims too: they
are measured outcomes stated in the text. Precision comes before recall: a number is kept only
when the words around it say unambiguously what it measures, so many real claims are left out
rather than one wrong claim let in.

Units (a closed vocabulary, ``CLAIM_UNITS``):

* ``%``: a score given in percent (accuracy, success rate, win rate, pass@k, mIoU in %, ...).
* ``% gain``: an improvement over a baseline given in percent (``outperforms X by 4.2%``,
  ``+3.1%``, ``a 12% improvement``). Abstracts seldom say whether it is absolute or relative, so
  it is kept apart from scores. Improvements of cost or length (memory, latency, tokens) are not
  quality gains and are left out.
* ``points``: an improvement given in points (``by 2.3 points``, ``4.2 percentage points``) or
  in the units of a named metric (``+1.7 mIoU``, ``by 7.6 mAP``).
* ``x speedup``: a speed ratio (``2.5x faster``, ``3x speedup``, ``accelerates ... by 6.3
  times``, ``40x inference speed``, ``improves latency by 289x``).
* ``FPS``: a measured speed in frames per second (``runs at 45 FPS``).
* ``AP``, ``mAP``, ``mIoU``, ``BLEU``, ``FID``, ``FVD``, ``F1``, ``PPL``, ``dB``: a score
  stated in the metric's own units, without a percent sign (``41.5 mAP``, ``FID of 2.27``,
  ``5.12 PPL``, ``32.1 dB``). FID variants (gFID, rFID) are ``FID``. An improvement in these
  units is ``points`` (``+1.7 mIoU``, ``a 9.93 dB PSNR gain``).
* ``score``: a unit-less score on a named metric or benchmark (``GenEval score of 0.55``,
  ``a score of 85.43 on the VBench benchmark``).

Values in a list share the metric named after the list (``31.1% and 34.8% solve rate``); a
change ``from A% to B%`` gives two scores when the text says of what. ``metric`` is the metric
phrase next to the number (normalised for scores and gains: ``top-1 accuracy``, ``mIoU``) and
``dataset`` the benchmark named next to it (``on ImageNet``, ``on SynthScars by 3.3%``); both
are null when the text does not say, and ``dataset`` is null when several values share a list
of benchmarks (``on A, B and C, respectively``).

Deliberately not claims: ranges (``8% to 71%``, ``1.1x-1.4x``: no single value), reductions of
cost (``reduces memory by 40%``, ``4x less memory``: a different kind of result, left for later),
drops and degradations, shares of data or parameters (``50% of the heads``), model sizes, counts,
years, resolutions, and numbers inside names (``GPT-4o``, ``top-5``, ``ImageNet-1K``).

Every claim keeps its evidence, the exact text it was read from, with character offsets into the
abstract (Python string indices, not UTF-8 byte offsets).
"""

from __future__ import annotations

import polars as pl

# The closed vocabulary of units, documented in the module docstring.
CLAIM_UNITS: tuple[str, ...] = (
    "%",
    "% gain",
    "points",
    "x speedup",
    "FPS",
    "AP",
    "mAP",
    "mIoU",
    "BLEU",
    "FID",
    "FVD",
    "F1",
    "PPL",
    "dB",
    "score",
)

CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "paper_id": pl.String(),
    "claim_index": pl.Int32(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "metric": pl.String(),
    "dataset": pl.String(),
    "span_start": pl.Int32(),
    "span_end": pl.Int32(),
    "evidence": pl.String(),
}

# How much text either side of a number is read to decide what it measures (characters).
_LEFT_WINDOW = 260
_RIGHT_WINDOW = 160

# --- building blocks of the patterns (Rust regex syntax: no look-around) ---------------------
# Case-insensitive parts are scoped with (?i:...): a data set name is recognised by its capital
# letters, which a global (?i) would make meaningless.

# ASCII digits only: "\d" also matches other scripts' digits (full-width １２), which are no
# number a claim states and which a float cast refuses
_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
# percent sign, LaTeX-escaped percent (\%), or the word
_PCT_SUFFIX = r"\s?\\?%|\s?percent\b"
# a ratio: 3x, 3×, 3X, 3 times, 3times (LaTeX \times loses its backslash upstream), 3-fold
_TIMES_SUFFIX = r"\s?(?:×|[xX]\b|times\b)|-fold\b|\s?fold\b"
# letters or a plus glued after a number make it part of a name or a bound: 7B, 8K, 3D, 4o, 50+
_TAIL = r"-?[A-Za-z_]\w*|\+"
# one number as it appears in running text, with what sticks to it
_MENTION = rf"(?P<num>{_NUM})(?P<suffix>{_PCT_SUFFIX}|{_TIMES_SUFFIX})?(?P<tail>{_TAIL})?"
# A number must follow a boundary: digits inside names (GPT-4o, top-5, Qwen2.5, mAP@0.5, v1.2,
# 14,000 after "sim") are not numbers of their own.
_BOUNDARY = r"(?:^|[^\w.,@/\\^-])"
# Everything since the previous number, a boundary, then the number: extract_all over this
# splits an abstract into consecutive chunks that each end with one number (see _mentions).
_SCAN = rf"(?s).*?{_BOUNDARY}{_NUM}(?:{_PCT_SUFFIX}|{_TIMES_SUFFIX})?(?:{_TAIL})?"

# hedges and articles allowed between a trigger word and the number
_QUAL = (
    r"(?:(?i:up\s+to|over|more\s+than|nearly|about|around|approximately|roughly|almost|"
    r"at\s+least|only|just|merely|as\s+much\s+as|an?\s+average\s+of|on\s+average|an?|the|"
    r"remarkable|significant|substantial|notable|impressive|average|absolute|relative|"
    r"~|\\sim|sim|≈|>|geq|≥)\s*)*"
)
_PCT = rf"{_NUM}\s?\\?%"

# words that may qualify a head metric (top-1 accuracy, repair success rate, ...)
_METRIC_MODIFIER = (
    r"(?:mean|average|avg|overall|total|top-\d+|zero-shot|few-shot|one-shot|\d+-shot|"
    r"linear[- ]probe|linear[- ]probing|fine-tuned|fine-tuning|exact[- ]match|balanced|strict|"
    r"test|validation|classification|recognition|macro|micro|weighted|answer|task|retrieval|"
    r"detection|prediction|grounding|repair|attack|jailbreak|normalized|pass@\d+|box|mask)"
)
_METRIC_HEAD = (
    r"(?:accuracy|success\s+rates?|win\s+rates?|solve\s+rates?|pass\s+rates?|resolve\s+rates?|"
    r"resolution\s+rates?|completion\s+rates?|agreement(?:\s+rates?)?|hit\s+rates?|"
    r"exact\s+match|pass@\d+|f1(?:[- ]scores?)?|f-1(?:\s+scores?)?|miou|map(?:@[\d.]+)?|"
    r"ap(?:50|75|@[\d.]+)?|auc|auroc|au-prc|recall(?:@\d+)?|r@\d+|precision(?:@\d+)?|"
    r"word\s+error\s+rate|wer|character\s+error\s+rate|cer|cider|mrr|ndcg(?:@\d+)?|top-[15]|"
    r"rouge(?:-[l12])?|bleu|meteor|chrf|[gr]?fid|fvd|psnr|ssim|lpips|perplexity)"
)
# a metric named next to a percentage, with its acronym after it if given
_METRIC = (
    rf"(?i:\b(?:{_METRIC_MODIFIER}[\s-]+){{0,3}}{_METRIC_HEAD}\b"
    r"(?:\s+\((?:wer|cer|em|f1)\))?)"
)
# Metrics with units of their own, case-sensitive: "map" in running text is not mAP.
_UNIT_METRIC = (
    r"(?:(?:box|mask)\s+)?(?:AP(?:50|75)?|mAP(?:@[\d.]+)?|mIoU|BLEU|[gr]?FID(?:-50[kK])?|FVD|"
    r"F1|PPL)"
)
# A benchmark or data set: a token with a capital letter (ImageNet-1K, GSM8K, nuScenes, TL;DR),
# optionally followed by capitalised words or a year (AIME 2024, SWE-bench Verified).
_DATASET_TOKEN = r"[\w-]*[A-Z][\w-]*(?:[;./][\w-]+)*"
_DATASET = rf"{_DATASET_TOKEN}(?:\s(?:[A-Z][\w-]*|(?:19|20)\d\d)){{0,2}}"
# "on ImageNet", "on the challenging benchmark VSI-Bench", "on the cityscapes validation set"
_ON_DATASET = (
    rf"\s+(?:on|in)\s+(?:the\s+)?(?:(?:[a-z-]+\s+){{0,4}}?(?i:benchmark|dataset)\s+)?"
    rf"(?:(?P<dataset>{_DATASET})|(?P<split_of>[a-z][\w-]*)\s+(?i:validation|val|test|dev)\s+"
    r"(?i:set|split)\b)"
)

# sibling values of a list sharing one metric: "4.2% and 1.4% mean top-1 accuracy"
_PCT_LIST = rf"(?:\s*,?\s*(?:and\s+)?\+?{_PCT})*"
_RATIO_LIST = rf"(?:\s*,?\s*(?:and\s+)?{_NUM}\s?(?:×|[xX]|times)\b)*"
# earlier items of a list after "by": "by 4.2% and ", "by 3.31% in mIoU and "
_LEFT_LIST = (
    rf"(?:\+?{_NUM}\s?(?:\\?%|points?|pp|[xX]|×|times|{_UNIT_METRIC})?"
    r"(?:\s+(?:in|on|over|for)(?:\s+[^\s,;.]+){1,5})?\s*,?\s*(?:and\s+)?)*"
)

# Verbs that end in "... by N": the last one before the number says what the number is.
_GAIN_VERBS = r"outperform|surpass|exceed|improv|boost|beat|increas|enhanc|rais|lift|advanc|gain"
_REDUCE_VERBS = (
    r"reduc|cut|decreas|lower|sav|drop|shrink|compress|degrad|declin|fall|fell|lag|trail|"
    r"los|shorten|minimi|deteriorat|worsen|hurt|harm|underperform|fail"
)
_SPEED_VERBS = r"accelerat|speed|sped|fasten"
_BY_VERB = (
    rf"^.*\b(?P<verb>(?i:{_GAIN_VERBS}|{_REDUCE_VERBS}|{_SPEED_VERBS})\w*)\b"
    rf"(?P<obj>(?:[^.;]|\.\d){{0,200}}?)(?P<by>(?:\bby|,?\s*\(?e\.g\.,?)\s+{_QUAL}{_LEFT_LIST})$"
)
# what an improvement is about when it is not a quality metric
_COST_OBJECT = (
    r"(?i)\b(?:length|tokens?|memory|costs?|latency|time|parameters?|flops|size|usage|"
    r"overhead|speed|throughput|efficiency|storage|footprint|steps?|compute|computation|"
    r"energy|budget|ttft|time-to-first-token|runtime)\b"
)
_SPEED_OBJECT = (
    r"(?i)\b(?:latency|speed|throughput|time|runtime|ttft|time-to-first-token|wall-clock)\b"
)
# an object that also names memory or size: the ratio is not (only) a speed
_SIZE_OBJECT = r"(?i)\b(?:memory|footprint|size|storage|parameters?|cache|tokens?)\b"
_GAIN_NOUN = r"(?i:gains?|improvements?|increases?|boosts?|advantages?|higher|better)"
# a value with a unit inside a phrase: the phrase is a list of results, not one metric's name
_R_NO_NOUN = r"^(?:\s*[(),.;]|\s+(?:in|on|over|across|for|and|respectively|vs)\b|\s*$)"
_R_GAIN_AFTER = rf"^\s+(?:\w+\s+)?{_GAIN_NOUN}\b"
_VALUE_IN_TEXT = rf"(?:^|\s)\+?\d+(?:\.\d+)?\s?(?:\\?%|points?|pp|[xX]\b|×|{_UNIT_METRIC})"

# --- right-hand contexts (anchored at the number's end) --------------------------------------

_R_RANGE = r"^\s*(?:-|–|—|~|to)\s*\+?\d"
_R_TO_PCT = rf"^(?P<ev>\s+to\s+{_QUAL}\+?{_PCT}(?:{_ON_DATASET})?)"
_R_PCT_METRIC = (
    rf"^(?P<ev>{_PCT_LIST}\s+(?:the\s+)?(?P<metric>{_METRIC})(?i:\s+scores?)?"
    rf"(?:{_ON_DATASET})?)"
)
# "(54.0%) on MathVerse", "10 or greater on Wikitext"
_R_PCT_DATASET = (
    rf"^(?P<ev>\)?{_PCT_LIST}(?:\s+or\s+(?i:greater|higher|more|better|above))?{_ON_DATASET})"
)
_R_PCT_GAIN = (
    rf"^(?P<ev>{_PCT_LIST}\s+(?:(?i:absolute|relative|average|avg\.?|overall|performance|"
    rf"mean)\s+)*(?:(?P<metric>{_METRIC})\s+)?{_GAIN_NOUN}\b"
    rf"(?:\s+(?:in\s+(?:terms\s+of\s+)?)?(?:the\s+)?(?P<metric2>{_METRIC}))?"
    rf"(?:(?:\s+over(?:\s+\S+){{0,4}}?)?{_ON_DATASET})?)"
)
_R_GAIN_METRIC = (
    rf"^(?P<ev>{_PCT_LIST}(?:\s+(?:in\s+(?:terms\s+of\s+)?)?(?:the\s+)?(?P<metric>{_METRIC}))?"
    rf"(?:{_ON_DATASET})?)"
)
# words after a percentage that make it a reduction, a share or a speed, not a score
_R_PCT_NOT_SCORE = (
    r"(?i)^\s*(?:(?:relative|absolute|average|overall|performance|accuracy|error|gpu|memory|"
    r"inference|training|computational|compute|latency|cost|costs|parameters?|tokens?|"
    r"storage|time|energy|kv|cache|model|size|wer|cer|fid)\s+){0,3}(?:reductions?|"
    r"decreases?|drops?|degradation|declines?|lower|less|fewer|smaller|cheaper|faster|"
    r"speed-?ups?|slower|worse|of\b|more\b|savings?)"
)
_R_POINTS = r"^(?P<ev>\s*(?i:absolute\s+|percentage\s+|accuracy\s+)?(?i:points?|pts|pp)\b)"
_R_NOT_GAIN = r"(?i)^\s*(?:\w+\s+){0,3}?(?:lower|less|worse|drops?|decreases?|behind|below)\b"
_R_UNIT_METRIC = rf"^(?P<ev>\s?(?P<metric>{_UNIT_METRIC})\b(?:{_ON_DATASET})?)"
_R_ON_UNIT_METRIC = rf"^(?P<ev>\s+(?:on|in)\s+(?P<metric>{_UNIT_METRIC})\b)"
_R_DB = r"^(?P<ev>\s?dB\b)"
_R_DB_GAIN = (
    rf"^(?P<ev>\s?dB\s+(?:(?P<metric>PSNR)\s+)?{_GAIN_NOUN}\b(?:\s+in\s+(?P<metric2>PSNR))?)"
)
_R_UNIT_METRIC_GAIN = rf"^(?P<ev>\s?(?P<metric>{_UNIT_METRIC})\s+{_GAIN_NOUN}\b)"
# words after "N points" that make it an improvement: "points improvement", "pp higher"
_R_POINTS_GAIN = (
    rf"^(?P<ev>\s*(?i:absolute\s+|percentage\s+|accuracy\s+)?(?i:points?|pts|pp)\b"
    rf"(?:\s+\S+){{0,3}}?\s+(?:{_GAIN_NOUN}|(?i:more|over|above|ahead)\b))"
)
_R_FPS = r"^(?P<ev>\s?(?:FPS|fps)\b)"
_R_SPEEDUP = (
    rf"(?i)^(?P<ev>{_RATIO_LIST}\s*(?:(?:end-to-end|overall|inference|decoding|training|"
    r"generation|prefill(?:ing)?|sampling|rendering|wall-clock|runtime|real-time)\s+)?"
    r"(?:speed-?ups?|acceleration|faster|higher\s+throughput|throughput|"
    r"(?:inference\s+|generation\s+|decoding\s+|training\s+)?speed|"
    r"improvement\s+in\s+(?:\w+\s+){0,2}?(?:speed|throughput|latency|time-to-first-token|ttft|"
    r"inference\s+time|runtime))\b)"
)
# the rest of the sentence says the data sets are listed in the order of the values
_R_RESPECTIVELY = r"(?i)^[^.]*\brespectively\b"

# --- left-hand contexts (anchored at the number's start) -------------------------------------

_L_PLUS = r"\+\s?$"
_L_RANGE_END = rf"\d\s?(?:\\?%|[xX]|×|times)?\s*(?:-|–|—|~|to)\s*{_QUAL}$"
_L_FROM = rf"(?P<pre>\w+)\s+(?i:from)\s+{_QUAL}$"
_L_TO = rf"(?P<pre>\w+)\s+(?i:from)\s+{_QUAL}\+?{_PCT}\s+to\s+{_QUAL}$"
_RANGE_WORD = r"(?i)^(?:rang\w*|var\w*|spann\w*|between)$"
_STRIP_FROM = rf"\s+(?i:from)\s+{_QUAL}(?:\+?{_PCT}\s+to\s+{_QUAL})?$"
# what a from-to change is about: "success rates from", "GSM8K accuracy from", "on MATH500 from"
_FROM_METRIC = (
    rf"(?:(?P<dataset>{_DATASET_TOKEN})\s+)?(?P<metric>{_METRIC})"
    r"(?:\s+(?:of|on|in|for)(?:\s+[\w-]+){1,4})?\s*$"
)
_FROM_DATASET = rf"\bon\s+(?:the\s+)?(?P<dataset>{_DATASET})\s*$"
_L_BY = rf"(?P<ev>\bby\s+{_QUAL}{_LEFT_LIST})$"
_L_METRIC_OF = (
    rf"(?P<ev>(?P<metric>{_METRIC})(?i:\s+(?:score|rate))?\s*(?i:of|=|:|\(|reaches|reached|"
    rf"reaching|is|was)\s*{_QUAL})$"
)
_L_UNIT_METRIC_OF = (
    rf"(?P<ev>(?P<metric>{_UNIT_METRIC}|(?i:perplexity)(?:\s+\(PPL\))?)(?i:\s+scores?)?\s*"
    rf"(?i:of|=|:|is|was)?\s*{_QUAL})$"
)
_L_VS = rf"(?P<ev>(?P<metric>{_UNIT_METRIC})\s+{_NUM}\s+vs\.?\s+)$"
_L_SCORE_OF = (
    rf"(?P<ev>(?:(?P<metric>[A-Z][\w.-]*)\s+|\b[aA]n?\s+)(?i:scores?)\s+(?:of\s+|=\s*|:\s*)"
    rf"{_QUAL})$"
)
_L_SPEEDUP_OF = rf"(?i)(?P<ev>\b(?:speed-?ups?|acceleration)\s+(?:of\s+)?{_QUAL})$"
_L_GAIN_OF = rf"(?P<ev>\b{_GAIN_NOUN}\s+(?i:of|by)\s+{_QUAL}{_LEFT_LIST})$"
# an improvement verb before "<metric> of N%": "boosts the accuracy of 3.8%"
_L_VERB_METRIC_OF = (
    rf"(?P<ev>\b(?i:{_GAIN_VERBS})\w*\s+(?:the\s+)?(?P<metric>{_METRIC})\s+(?i:of)\s+{_QUAL})$"
)
# values listed after an improvement and a colon: "improvements over SOTA: 11% on A, 20% on B"
_L_GAIN_COLON = rf"\b{_GAIN_NOUN}\b(?:[^.;:]|\.\d){{0,80}}:\s+{_QUAL}{_LEFT_LIST}$"
# the next item of a list of gains: "9% improvement in English and over 20% in Arabic"
_L_GAIN_LIST = (
    rf"\+?{_NUM}\s?(?:\\?%|points?|pp)\s+(?:(?i:relative|absolute|average)\s+)?{_GAIN_NOUN}"
    rf"(?:\s+(?:in|on|over|for)(?:\s+[^\s,;.]+){{1,3}})?\s*,?\s*(?:and\s+)?{_QUAL}$"
)
# c. reductions are not scores: "reductions of up to 90% in toxicity"
_L_REDUCTION_OF = (
    rf"(?i)\b(?:reductions?|decreases?|drops?|declines?|savings?|cuts?|degradations?|losses)\s+"
    rf"(?:of|by|in)\s+{_QUAL}{_LEFT_LIST}$"
)
# d. "between 83.9% and 100%": a range
_L_BETWEEN = rf"(?i)\bbetween\s+{_QUAL}$"
_L_BETWEEN_END = rf"(?i)\bbetween\s+{_QUAL}{_NUM}\s?(?:\\?%|[xX]|×|times)?\s+and\s+{_QUAL}$"
# f. capitalised words after "on"/"in" that are not benchmarks
_NOT_DATASET = (
    r"^(?:\dD|OOD|ID|SOTA|GPUs?|CPUs?|TPUs?|LLMs?|MLLMs?|VLMs?|LVLMs?|LMMs?|AI|NLP|CV|English|"
    r"Chinese|Arabic|average|Table|Figure|Section|held-out|official|public|standard|full|whole|"
    r"entire|original|same|our|private|hidden|blind|corresponding|respective|new|challenging)$"
)
_L_FPS = (
    r"(?i)(?P<ev>\b(?:runs?|running|ran|operates?|operating|renders?|rendering|achiev\w*|"
    r"reach\w*|attain\w*|deliver\w*|speeds?\s+of|rates?\s+of)\b(?:\s+[\w-]+){0,3}?\s+"
    rf"(?:at\s+)?{_QUAL})$"
)
# a data set named just before "by" or "from": "on SynthScars by 3.31%", ", Hi4D (depth) by"
_L_DATASET = (
    rf"(?:\bon\s+(?:the\s+)?(?P<dataset>{_DATASET})|\bon\s+(?:the\s+)?{_DATASET_TOKEN}\b(?:[^.;]|\.\d)*?"
    rf"(?:,|\band)\s+(?P<dataset2>{_DATASET}))(?:\s+\([^()]{{1,30}}\))?\s+(?:by|from)\s+"
    rf"{_QUAL}{_LEFT_LIST}$"
)

# What may follow a bare number that is a claim: the start of _R_POINTS, _R_POINTS_GAIN,
# _R_UNIT_METRIC, _R_UNIT_METRIC_GAIN, _R_ON_UNIT_METRIC, _R_DB, _R_DB_GAIN or _R_FPS, loosened
# into one test that each of them implies.
_BARE_UNIT_AFTER = (
    r"^\s*(?:(?i:absolute|percentage|accuracy|points?|pts|pp|on|in)\b|box|mask|AP|mAP|mIoU|"
    r"BLEU|[gr]?FID|FVD|F1|PPL|dB|FPS|fps)"
)

# How the three slowest left-hand patterns end (_BY_VERB, _L_DATASET, _L_GAIN_COLON): each is
# implied by its pattern, so a left context without it cannot match that pattern.
_BY_OR_EG = rf"(?:\bby|e\.g\.,?)\s+{_QUAL}{_LEFT_LIST}$"
_BY_OR_FROM = rf"\s(?:by|from)\s+{_QUAL}{_LEFT_LIST}$"
_COLON_LIST = rf":\s+{_QUAL}{_LEFT_LIST}$"


def _mentions(abstracts: pl.LazyFrame) -> pl.LazyFrame:
    """Every number of every abstract with its character offsets and what sticks to it.

    ``extract_all`` over ``(?s).*?<number>`` splits each abstract into consecutive chunks, each
    ending with one number; the running sum of the chunks' lengths in characters is where each
    number ends. Polars' ``str.find`` gives byte offsets, which differ from Python string
    indices as soon as the text has a non-ASCII character.
    """
    return (
        abstracts.with_columns(pl.col("abstract").str.extract_all(_SCAN).alias("_chunk"))
        .explode("_chunk")
        .filter(pl.col("_chunk").is_not_null())
        .with_columns(
            # signed: the left window subtracts from these offsets (u32 would wrap around)
            pl.col("_chunk")
            .str.len_chars()
            .cast(pl.Int64)
            .cum_sum()
            .over("paper_id")
            .alias("_end"),
            # the chunk ends with the number: the shortest such ending is the number itself
            pl.col("_chunk").str.extract(f"({_MENTION})$", 1).alias("_mention"),
        )
        .with_columns(
            (pl.col("_end") - pl.col("_mention").str.len_chars()).alias("_start"),
            pl.col("_mention").str.extract_groups(f"^{_MENTION}$").alias("_parts"),
        )
        .unnest("_parts")
        .drop("_chunk", "_mention")
    )


def _group(column: str, pattern: str, group: str = "ev") -> pl.Expr:
    """One named group of the first match of ``pattern`` in a context column, or null."""
    return pl.col(column).str.extract_groups(pattern).struct.field(group)


def _masked(condition: pl.Expr, column: str) -> pl.Expr:
    """A context column with null where ``condition`` does not hold.

    ``when/then`` evaluates every branch on every row, but ``extract_groups`` and ``find``
    skip null values: masking the column first spares an expensive pattern the rows where it
    cannot match (``condition`` is necessary for a match) or where no rule reads its result.
    ``str.contains`` does not skip them (it runs on the values behind the nulls): use
    ``_found``.
    """
    return pl.when(condition).then(pl.col(column))


def _found(masked: pl.Expr, pattern: str) -> pl.Expr:
    """``str.contains`` for a masked column, False where it is masked."""
    return masked.str.find(pattern).is_not_null()


def _ends_like(pattern: str) -> pl.Expr:
    """Whether the left context matches ``pattern`` (one anchored at its end)."""
    return pl.col("_left").str.contains(pattern)


def _group_where(condition: pl.Expr, column: str, pattern: str, group: str = "ev") -> pl.Expr:
    """``_group`` evaluated only on the rows where ``condition`` holds, null elsewhere."""
    return _masked(condition, column).str.extract_groups(pattern).struct.field(group)


def _left(pattern: str, group: str = "ev") -> pl.Expr:
    return _group("_left", pattern, group)


def _right(pattern: str, group: str = "ev") -> pl.Expr:
    return _group("_right", pattern, group)


def _right_dataset(pattern: str) -> pl.Expr:
    """The data set a right-hand pattern found, by name or as "the <name> validation set"."""
    found = pl.col("_right").str.extract_groups(pattern)
    return pl.coalesce(found.struct.field("dataset"), found.struct.field("split_of"))


def _nchars(expr: pl.Expr) -> pl.Expr:
    return expr.str.len_chars().fill_null(0)


def _find_metric(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(f"({_METRIC})", 1)


def _canonical_metric(expr: pl.Expr) -> pl.Expr:
    """A stable spelling of a metric phrase: lower case, acronyms in their usual capitals,
    ``word error rate (WER)`` as ``WER``, plurals singular."""
    text = expr.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()
    spellings = {
        r"\bword error rate(?: \(wer\))?": "WER",
        r"\bcharacter error rate(?: \(cer\))?": "CER",
        r"\bperplexity \(ppl\)": "perplexity",
        r"\bf-?1(?:[- ]scores?)?(?: \(f1\))?": "F1",
        r"\bmiou\b": "mIoU",
        r"\bmap\b": "mAP",
        r"\bap(50|75)?\b": "AP${1}",
        r"\bgfid\b": "gFID",
        r"\brfid\b": "rFID",
        r"\bcider\b": "CIDEr",
        r"\b(success|win|solve|pass|resolve|completion|hit|agreement) rates\b": "${1} rate",
    }
    for pattern, replacement in spellings.items():
        text = text.str.replace_all(pattern, replacement)
    # acronyms that are all capitals
    for acronym in (
        "wer",
        "cer",
        "auc",
        "auroc",
        "au-prc",
        "mrr",
        "ndcg",
        "fid",
        "fvd",
        "bleu",
        "ppl",
    ):
        text = text.str.replace_all(rf"\b{acronym}\b", acronym.upper())
    return text


def _unit_of_metric(expr: pl.Expr) -> pl.Expr:
    """The unit of a score stated in a metric's own units: ``gFID`` is ``FID``, ``AP50`` is
    ``AP``, ``mAP@0.5`` is ``mAP``, ``perplexity`` is ``PPL``."""
    return (
        expr.str.replace(r"^(?:box|mask)\s+", "")
        .str.replace(r"^[gr]?FID.*$", "FID")
        .str.replace(r"^AP(?:50|75)$", "AP")
        .str.replace(r"^mAP@.*$", "mAP")
        .str.replace(r"^(?i:perplexity).*$", "PPL")
    )


def extract_claims(papers: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The numeric result claims of each paper's abstract, one row per claim.

    Args:
        papers: one row per paper with ``paper_id`` and ``abstract`` (normalised text: one line,
            NFC). Papers without an abstract have no claims; a paper given twice counts once.

    Returns:
        A frame with ``CLAIM_SCHEMA``: ``claim_index`` numbers a paper's claims from 1 in the
        order they appear; ``value`` is the number as stated (a bound such as "over 90%" gives
        90); ``unit`` is one of ``CLAIM_UNITS``; ``metric`` and ``dataset`` are what the text
        names next to the number, or null; ``abstract[span_start:span_end] == evidence``.
        Sorted by ``paper_id`` and ``claim_index``; the same input always gives the same rows.
    """
    abstracts = (
        papers.lazy()
        .select(pl.col("paper_id").cast(pl.String), pl.col("abstract").cast(pl.String))
        .filter(pl.col("abstract").is_not_null() & pl.col("paper_id").is_not_null())
        # one abstract per paper, the same one whatever the input order
        .sort("paper_id", "abstract")
        .unique("paper_id", keep="first", maintain_order=True)
    )
    left_from = (pl.col("_start") - _LEFT_WINDOW).clip(lower_bound=0)
    mentions = _mentions(abstracts).with_columns(
        pl.col("abstract").str.slice(left_from, pl.col("_start") - left_from).alias("_left"),
        pl.col("abstract").str.slice(pl.col("_end"), _RIGHT_WINDOW).alias("_right"),
        pl.col("num").str.replace_all(",", "").cast(pl.Float64).alias("value"),
    )
    # Most numbers are no claim: cheap tests drop them before the costlier context tests.
    # Collected here: one plan from the abstracts to the decisions took about 1.6 times the
    # CPU time of two (Polars 2.1 streaming engine, stress corpus).
    candidates = mentions.with_columns(_kinds()).filter(_may_be_claim()).collect().lazy()
    decided = (
        candidates.with_columns(_slow_matches()).with_columns(_features()).with_columns(_decision())
    )
    found = (
        decided.filter(pl.col("unit").is_not_null())
        .with_columns(
            (pl.col("_start") - pl.col("_left_len")).alias("span_start"),
            (pl.col("_end") + pl.col("_right_len")).alias("span_end"),
        )
        .with_columns(
            pl.col("abstract")
            .str.slice(pl.col("span_start"), pl.col("span_end") - pl.col("span_start"))
            .alias("evidence"),
            # metric phrases of scores and gains are normalised; names (GenEval, gFID) kept
            pl.when(pl.col("unit").is_in(["%", "% gain", "points"]))
            .then(_canonical_metric(pl.col("metric")))
            .otherwise(pl.col("metric").str.strip_chars())
            .alias("metric"),
        )
        .with_row_index("_row")
        .collect()
    )
    # _dataset matches a pattern made of each claim's own data set, which Polars compiles for
    # every row unless the row before had the same one: grouped by data set, the claims compile
    # it once per name. Eager, as the query optimiser drops a sort that a later sort undoes.
    # Sorted back, so that claims with the same span (two values of one list) keep their
    # reading order through the sort by span.
    named = found.sort("dataset", "_row").with_columns(_dataset()).sort("_row")
    return (
        named.sort("paper_id", "span_start", "span_end", maintain_order=True)
        .with_columns(pl.int_range(1, pl.len() + 1).over("paper_id").alias("claim_index"))
        .select([pl.col(name).cast(dtype) for name, dtype in CLAIM_SCHEMA.items()])
        .sort("paper_id", "claim_index")
    )


def _dataset() -> pl.Expr:
    """The data set of a claim, or null when the text does not tie it to one.

    A capitalised word that is not a benchmark (OOD, GPUs, LLMs) is no data set; neither is the
    first of a list of data sets after a list of values ("by 3.2%, 2.0% and 16.5% on MSVD,
    MSRVTT and TGIF"), which the values share out in an order the text does not always give.
    """
    dataset = pl.col("dataset").str.strip_chars(" -.;/")
    listed = pl.col("_right").str.contains(
        pl.concat_str(
            dataset.str.escape_regex(),
            pl.lit(r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*/\s*)(?:the\s+)?[\w-]*[A-Z]"),
        )
    )
    return (
        pl.when(dataset.str.contains(_NOT_DATASET) | listed.fill_null(False))
        .then(None)
        .otherwise(dataset)
        .alias("dataset")
    )


def _kinds() -> list[pl.Expr]:
    """What kind of number each mention is, and whether it is a value of its own at all.

    These tests are cheap and read for every number; ``_may_be_claim`` then drops the numbers
    that no rule can make a claim of before the costlier context tests of ``_features``.
    """
    suffix = pl.col("suffix")
    dash_points = pl.col("tail").str.contains(r"^-points?$").fill_null(False)
    from_value = (
        pl.col("_left").str.contains(_L_FROM)
        & pl.col("_right").str.contains(_R_TO_PCT)
        & ~_left(_L_FROM, "pre").str.contains(_RANGE_WORD).fill_null(False)
    ).fill_null(False)
    to_value = (
        pl.col("_left").str.contains(_L_TO)
        & ~_left(_L_TO, "pre").str.contains(_RANGE_WORD).fill_null(False)
    ).fill_null(False)
    return [
        suffix.str.contains("%|percent").fill_null(False).alias("_is_pct"),
        suffix.str.contains(r"[xX×]|times|fold").fill_null(False).alias("_is_ratio"),
        suffix.is_null().alias("_is_bare"),
        dash_points.alias("_dash_points"),
        # not a value of its own: part of a name (7B, 3D), a bound (50+) or one end of a range
        (
            (pl.col("tail").is_not_null() & ~dash_points)
            | (pl.col("_right").str.contains(_R_RANGE) & ~from_value)
            | (pl.col("_left").str.contains(_L_RANGE_END) & ~to_value)
            | (
                pl.col("_left").str.contains(_L_BETWEEN)
                & pl.col("_right").str.contains(r"^\s+and\s")
            )
            | pl.col("_left").str.contains(_L_BETWEEN_END)
        ).alias("_not_value"),
        from_value.alias("_from_value"),
        to_value.alias("_to_value"),
    ]


def _may_be_claim() -> pl.Expr:
    """False for numbers that no rule of ``_decision`` can make a claim of.

    Every rule wants a value; most numbers are bare (counts, years, sizes), and a bare one is
    only a claim with a unit or a score named next to it: points, a metric's units, dB or FPS
    after it (``_BARE_UNIT_AFTER``), a metric, "score of" or "vs." before it. A new rule for
    bare numbers needs its hint here.
    """
    bare_value = pl.col("_is_bare") & ~pl.col("_not_value")
    # masked: the context patterns only read the contexts of bare values
    right = _masked(bare_value, "_right")
    left = _masked(bare_value, "_left")
    hinted = (
        pl.col("_dash_points")
        | _found(right, _BARE_UNIT_AFTER)
        | _found(left, _L_UNIT_METRIC_OF)
        | _found(left, _L_VS)
        | _found(left, _L_SCORE_OF)
    )
    return ~pl.col("_not_value") & (~pl.col("_is_bare") | hinted)


def _slow_matches() -> list[pl.Expr]:
    """The matches of the slowest left-hand patterns, one struct column each, for _features.

    Each of these patterns ends with a list of values after "by", "from", "e.g." or a colon; a
    short anchored pattern that it implies rules out most numbers first, which then skip it.
    Columns of their own: Polars does not share an expression with a ``when/then`` in it
    between the fields read from it, and would run the pattern once per field.
    """
    return [
        _masked(_ends_like(_BY_OR_EG), "_left").str.extract_groups(_BY_VERB).alias("_by_verb"),
        _masked(_ends_like(_BY_OR_FROM), "_left")
        .str.extract_groups(_L_DATASET)
        .alias("_dataset_by"),
        _found(_masked(_ends_like(_COLON_LIST), "_left"), _L_GAIN_COLON).alias("_gain_colon"),
    ]


def _features() -> list[pl.Expr]:
    """Context tests shared by several rules, one column each, computed once for all candidate
    numbers."""
    by_verb = pl.col("_by_verb")
    left_dataset = pl.col("_dataset_by")
    return [
        pl.col("_left").str.contains(_L_PLUS).alias("_plus"),
        # the text before "from": what a from-to change is about
        pl.col("_left").str.replace(_STRIP_FROM, "").alias("_before_from"),
        by_verb.struct.field("verb").str.to_lowercase().alias("_verb"),
        by_verb.struct.field("obj").alias("_obj"),
        by_verb.struct.field("by").alias("_verb_by"),
        _left(_L_BY).alias("_by"),
        pl.coalesce(_left(_L_GAIN_OF), _left(_L_VERB_METRIC_OF)).alias("_gain_of"),
        # the next item of a list of gains, when it has no noun of its own ("and 20% in
        # Arabic", not "and a 23.7% inference overhead")
        (
            (pl.col("_left").str.contains(_L_GAIN_LIST) & pl.col("_right").str.contains(_R_NO_NOUN))
            | pl.col("_gain_colon")
        ).alias("_gain_list"),
        pl.col("_left").str.contains(_L_REDUCTION_OF).alias("_reduction_of"),
        pl.coalesce(
            left_dataset.struct.field("dataset"), left_dataset.struct.field("dataset2")
        ).alias("_left_dataset"),
        _right_dataset(_R_TO_PCT).alias("_to_dataset"),
        pl.col("_right").str.contains(_R_RESPECTIVELY).alias("_respectively"),
    ]


Rule = tuple[pl.Expr, str | None, pl.Expr, pl.Expr, pl.Expr, pl.Expr]


def _decision() -> list[pl.Expr]:
    """Decide for each number whether it is a claim, and its unit, metric and data set.

    Rules are tried in order and the first that applies wins; a rule with no unit rejects the
    number. ``_left_len`` and ``_right_len`` say how much context either side is evidence.
    """
    verb = pl.col("_verb")
    gain_verb = verb.str.contains(f"^(?:{_GAIN_VERBS})").fill_null(False)
    reduce_verb = verb.str.contains(f"^(?:{_REDUCE_VERBS})").fill_null(False)
    speed_verb = verb.str.contains(f"^(?:{_SPEED_VERBS})").fill_null(False)
    cost_object = pl.col("_obj").str.contains(_COST_OBJECT).fill_null(False)
    speed_object = pl.col("_obj").str.contains(_SPEED_OBJECT).fill_null(False)
    size_object = pl.col("_obj").str.contains(_SIZE_OBJECT).fill_null(False)
    verb_phrase_len = _nchars(verb) + _nchars(pl.col("_obj")) + _nchars(pl.col("_verb_by"))
    # "by N", or "e.g., N" after an improvement verb
    by = pl.col("_by").is_not_null() | pl.col("_verb_by").is_not_null()
    plus = pl.col("_plus")
    by_gain = by & gain_verb
    by_other = by & ~gain_verb
    gain_of = pl.col("_gain_of").is_not_null()
    gain_list = pl.col("_gain_list")

    pct_gain_right = _right(_R_PCT_GAIN)
    pct_metric_right = _right(_R_PCT_METRIC)
    pct_dataset_right = _right(_R_PCT_DATASET)
    gain_metric_right = _right(_R_GAIN_METRIC)
    metric_of_left = _left(_L_METRIC_OF)
    points_right = _right(_R_POINTS)
    unit_metric_right = _right(_R_UNIT_METRIC)
    on_unit_metric_right = _right(_R_ON_UNIT_METRIC)
    unit_metric_left = _left(_L_UNIT_METRIC_OF)
    vs_left = _left(_L_VS)
    score_left = _left(_L_SCORE_OF)
    score_name = _left(_L_SCORE_OF, "metric")
    speedup_right = _right(_R_SPEEDUP)
    speedup_left = _left(_L_SPEEDUP_OF)
    fps_right = _right(_R_FPS)
    # _L_FPS is by far the slowest pattern (tens of microseconds a number) and only matters
    # next to "FPS": it reads the left context of those numbers alone
    fps_left = _group_where(fps_right.is_not_null(), "_left", _L_FPS)
    db_right = _right(_R_DB)
    db_gain_right = _right(_R_DB_GAIN)
    unit_metric_gain_right = _right(_R_UNIT_METRIC_GAIN)
    points_gain_right = _right(_R_POINTS_GAIN)

    # a metric named in the verb's object, unless the object lists other values
    obj_metric = pl.when(~pl.col("_obj").str.contains(_VALUE_IN_TEXT)).then(
        _find_metric(pl.col("_obj"))
    )
    before_from = pl.col("_before_from")
    from_metric = before_from.str.extract_groups(_FROM_METRIC)
    from_dataset = pl.coalesce(
        from_metric.struct.field("dataset"),
        before_from.str.extract(_FROM_DATASET, 1),
        pl.col("_to_dataset"),
        _right_dataset(_R_PCT_DATASET),
    )
    gain_dataset = pl.coalesce(
        _right_dataset(_R_PCT_GAIN),
        _right_dataset(_R_GAIN_METRIC),
        pl.col("_left_dataset"),
    )
    gain_metric = pl.coalesce(
        _find_metric(pct_gain_right),
        _find_metric(gain_metric_right),
        obj_metric,
        _left(_L_VERB_METRIC_OF, "metric"),
    )

    def plus_or(length: pl.Expr) -> pl.Expr:
        """Evidence to the left: the "+" sign of "+3.1%", else ``length`` characters."""
        return pl.when(plus).then(1).otherwise(length)

    value = ~pl.col("_not_value")
    pct = pl.col("_is_pct") & value
    ratio = pl.col("_is_ratio") & value
    bare = pl.col("_is_bare") & value
    none_str = pl.lit(None, dtype=pl.String)
    zero = pl.lit(0)

    # (condition, unit, metric, data set, left evidence length, right evidence length)
    rules: list[Rule] = [
        # --- percentages -----------------------------------------------------------------
        # a change from one score to another: both ends are measured scores, when the text
        # says of what ("success rate from 4.6% to 21.5%", "on MATH500 from 87.4% to 91.2%")
        (
            pct
            & (pl.col("_from_value") | pl.col("_to_value"))
            & (from_metric.struct.field("metric").is_not_null() | from_dataset.is_not_null()),
            "%",
            from_metric.struct.field("metric"),
            from_dataset,
            zero,
            _nchars(pl.when(pl.col("_to_value")).then(pct_dataset_right)),
        ),
        (pct & (pl.col("_from_value") | pl.col("_to_value")), None, none_str, none_str, zero, zero),
        # "reductions of up to 90% in toxicity" is not a score
        (pct & pl.col("_reduction_of"), None, none_str, none_str, zero, zero),
        # "+3.1%", "outperforms X by 4.2% and 1.4% mean top-1 accuracy"
        (
            pct & (plus | (by_gain & ~cost_object)),
            "% gain",
            gain_metric,
            gain_dataset,
            plus_or(verb_phrase_len),
            _nchars(gain_metric_right),
        ),
        # "reduces memory by 40%", "by 5%" without a verb: a change of unknown kind
        (pct & by_other, None, none_str, none_str, zero, zero),
        # "a 40% improvement", "5% absolute gain", "an improvement of 18.9%"
        (
            pct & (pct_gain_right.is_not_null() | gain_of | gain_list),
            "% gain",
            gain_metric,
            gain_dataset,
            _nchars(pl.col("_gain_of")),
            _nchars(pl.coalesce(pct_gain_right, gain_metric_right)),
        ),
        (
            pct & pl.col("_right").str.contains(_R_PCT_NOT_SCORE),
            None,
            none_str,
            none_str,
            zero,
            zero,
        ),
        # "8.6% points" is an improvement in points
        (
            pct & points_right.is_not_null(),
            "points",
            none_str,
            none_str,
            zero,
            _nchars(points_right),
        ),
        # "87.1% top-1 accuracy on ImageNet", "31.1% and 34.8% solve rate"
        (
            pct & pct_metric_right.is_not_null(),
            "%",
            _find_metric(pct_metric_right),
            _right_dataset(_R_PCT_METRIC),
            zero,
            _nchars(pct_metric_right),
        ),
        # "an accuracy of 79.9%", "accuracy (54.0%) on the MathVerse benchmark"
        (
            pct & metric_of_left.is_not_null(),
            "%",
            _find_metric(metric_of_left),
            _right_dataset(_R_PCT_DATASET),
            _nchars(metric_of_left),
            _nchars(pct_dataset_right),
        ),
        # "88.3% on SimpleQA"
        (
            pct & pct_dataset_right.is_not_null(),
            "%",
            none_str,
            _right_dataset(_R_PCT_DATASET),
            zero,
            _nchars(pct_dataset_right),
        ),
        # --- ratios ----------------------------------------------------------------------
        # "accelerates generation by 6.3 times", "improves query latency by up to 289x"
        (
            ratio & by & (speed_verb | ((gain_verb | reduce_verb) & speed_object)) & ~size_object,
            "x speedup",
            none_str,
            none_str,
            verb_phrase_len,
            zero,
        ),
        # "reduces the tokens by 64x": a reduction, not a speed
        (ratio & by, None, none_str, none_str, zero, zero),
        # "2.5x faster", "3.6x speedup", "15x, 46x and 158x faster", "40x inference speed"
        (
            ratio & speedup_right.is_not_null(),
            "x speedup",
            none_str,
            none_str,
            zero,
            _nchars(speedup_right),
        ),
        # "a speedup of over 4000x"
        (
            ratio & speedup_left.is_not_null(),
            "x speedup",
            none_str,
            none_str,
            _nchars(speedup_left),
            zero,
        ),
        # --- bare numbers ----------------------------------------------------------------
        # (only those with a hint of _may_be_claim get here: a new rule needs its hint there)
        # "an improvement of 2.4 points", "+5.5 points", "by 3.2 and 1.6 points", "a 19-point
        # gain", "6.6 percentage point improvement" (not "achieves 50 points": a score; not
        # "34 points lower": a loss)
        (
            bare
            & (points_right.is_not_null() | pl.col("_dash_points"))
            & (
                plus
                | by_gain
                | gain_of
                | gain_list
                | points_gain_right.is_not_null()
                | (pl.col("_dash_points") & pl.col("_right").str.contains(_R_GAIN_AFTER))
            )
            & ~pl.col("_right").str.contains(_R_NOT_GAIN),
            "points",
            none_str,
            gain_dataset,
            plus_or(_nchars(pl.coalesce(pl.col("_gain_of"), pl.col("_by")))),
            _nchars(points_right),
        ),
        # "up to 12.56 mIoU gain", "9.93 dB PSNR gain", "2.20 dB higher in PSNR"
        (
            bare & (unit_metric_gain_right.is_not_null() | db_gain_right.is_not_null()),
            "points",
            pl.coalesce(_right(_R_UNIT_METRIC_GAIN, "metric"), _right(_R_DB_GAIN, "metric")),
            none_str,
            zero,
            _nchars(pl.coalesce(unit_metric_gain_right, db_gain_right)),
        ),
        # "+1.7 mIoU", "by 7.6 mAP", "+31.5 on mAP@0.25": an improvement in a metric's units
        (
            bare
            & (plus | by_gain | gain_of)
            & (unit_metric_right.is_not_null() | on_unit_metric_right.is_not_null()),
            "points",
            pl.coalesce(_right(_R_UNIT_METRIC, "metric"), _right(_R_ON_UNIT_METRIC, "metric")),
            pl.coalesce(_right_dataset(_R_UNIT_METRIC), pl.col("_left_dataset")),
            plus_or(_nchars(pl.coalesce(pl.col("_gain_of"), pl.col("_by")))),
            _nchars(pl.coalesce(unit_metric_right, on_unit_metric_right)),
        ),
        # any other "by N" or "+N" is a change in unknown units
        (bare & (by | plus), None, none_str, none_str, zero, zero),
        # "41.5 mAP", "49.5 mIoU on ADE20K", "5.12 PPL", "7.59 FID"
        (
            bare & unit_metric_right.is_not_null(),
            "metric",
            _right(_R_UNIT_METRIC, "metric"),
            _right_dataset(_R_UNIT_METRIC),
            zero,
            _nchars(unit_metric_right),
        ),
        # "FID of 2.27", "BLEU score of 25.2", "perplexity (PPL) of 10", "gFID 2.74"
        (
            bare & unit_metric_left.is_not_null() & points_right.is_null(),
            "metric",
            _left(_L_UNIT_METRIC_OF, "metric"),
            _right_dataset(_R_PCT_DATASET),
            _nchars(unit_metric_left),
            _nchars(pct_dataset_right),
        ),
        # "(gFID 2.74 vs. 3.04)"
        (
            bare & vs_left.is_not_null(),
            "metric",
            _left(_L_VS, "metric"),
            none_str,
            _nchars(vs_left),
            zero,
        ),
        # "PSNR of 32.1 dB"
        (
            bare & db_right.is_not_null() & ~(by | plus | gain_of),
            "dB",
            pl.lit("PSNR"),
            none_str,
            zero,
            _nchars(db_right),
        ),
        # "runs at 45 FPS"
        (
            bare & fps_left.is_not_null() & fps_right.is_not_null(),
            "FPS",
            none_str,
            none_str,
            _nchars(fps_left),
            _nchars(fps_right),
        ),
        # "GenEval score of 0.55", "a score of 85.43 on the VBench benchmark"
        (
            bare
            & score_left.is_not_null()
            & (score_name.is_not_null() | pct_dataset_right.is_not_null()),
            "score",
            score_name,
            _right_dataset(_R_PCT_DATASET),
            _nchars(score_left),
            _nchars(pct_dataset_right),
        ),
    ]
    unit: pl.Expr = pl.lit(None, dtype=pl.String)
    metric: pl.Expr = none_str
    dataset: pl.Expr = none_str
    left_len: pl.Expr = zero
    right_len: pl.Expr = zero
    # chain from the last rule backwards so that the first rule that applies wins
    for condition, rule_unit, rule_metric, rule_dataset, rule_left, rule_right in reversed(rules):
        applies = condition.fill_null(False)
        unit = pl.when(applies).then(pl.lit(rule_unit, dtype=pl.String)).otherwise(unit)
        metric = pl.when(applies).then(rule_metric).otherwise(metric)
        dataset = pl.when(applies).then(rule_dataset).otherwise(dataset)
        left_len = pl.when(applies).then(rule_left).otherwise(left_len)
        right_len = pl.when(applies).then(rule_right).otherwise(right_len)
    return [
        # a score in a metric's own units takes the metric as its unit
        pl.when(unit == "metric").then(_unit_of_metric(metric)).otherwise(unit).alias("unit"),
        metric.alias("metric"),
        # "on A, B and C, respectively": the data set next to one value is not its own
        pl.when(pl.col("_respectively")).then(None).otherwise(dataset).alias("dataset"),
        left_len.fill_null(0).alias("_left_len"),
        right_len.fill_null(0).alias("_right_len"),
    ]
