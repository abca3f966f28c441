"""The benchmark runner: our build against the floor and against dlt, in one sitting.

Every measurement is a subprocess, timed by wall clock and watched for the peak resident memory
of its whole process tree (polled with psutil every ~20 ms), repeated ``--reps`` times in
round-robin order (so a noisy neighbour spreads over all of them), and reported as the median:

- ``ours_full``: ``trending-papers build`` (Dagster + Great Expectations) on a fresh data folder;
- ``ours_library``: ``build_everything`` (no Dagster, no validation) on a fresh data folder;
- ``ours_incremental``: one new day (an API file and a capture) landed on a built history (a copy
  of the first ``ours_full`` data folder, so every repetition measures the same thing);
- ``ours_full_api``: ``ours_full`` on the API files only, the like-for-like partner of dlt;
- ``floor``: ``bench/floor.py``, read + parse every file into one flat Parquet file;
- ``dlt_parquet`` / ``dlt_default`` / ``dlt_jsonl``: ``bench/dlt_pipeline.py`` (API files only)
  into DuckDB with parquet, DuckDB's default (insert_values) or jsonl loader files.

``ge_share`` is derived from ``ours_full``: the sum of its ``validate: ... (X s)`` lines over its
wall time. Results go to ``bench/results/<shape>.json`` and a Markdown table to stdout.

Runs in the bench environment (psutil + the standard library; the measured programs run in their
own environments): ``bench/.venv/bin/python -m bench.run --shape tiny --reps 1``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
MAIN_PYTHON = REPO / ".venv" / "bin" / "python"
MAIN_CLI = REPO / ".venv" / "bin" / "trending-papers"
BENCH_BIN = Path(sys.executable).parent
WORK_DIR = BENCH / ".work"
CORPUS_CACHE = BENCH / ".corpus"
RESULTS_DIR = BENCH / "results"
POLL_SECONDS = 0.02
# the list of processes in a tree is refreshed this often (a full /proc scan); their RSS every poll
TREE_REFRESH_SECONDS = 0.5
GIB = 1024**3
_VALIDATE_LINE = re.compile(r"validate: .*\((\d+(?:\.\d+)?) s\)\s*$", re.MULTILINE)

LIBRARY_BUILD = (
    "import sys; from pathlib import Path; "
    "from pipelines.core.build import build_everything; "
    "from pipelines.core.ops.settings import Paths; "
    "build_everything(Paths(landing_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2])))"
)

MEASUREMENTS = (
    "floor",
    "ours_library",
    "ours_full",
    "ours_incremental",
    "ours_full_api",
    "dlt_parquet",
    "dlt_default",
    "dlt_jsonl",
)
# left out unless asked for with --only: dlt's insert_values loader peaked at 4.7 GB on `years`
# (38k records) and grows with the data; on `stress` it would not fit this 24 GB machine
DEFAULT_SKIP = {"stress": ("dlt_default",)}
DESCRIPTIONS = {
    "floor": "read + parse every file, one flat Parquet file (no validation, no dedup)",
    "ours_library": "build_everything(): ingest, curate, release, warehouse; no Dagster, no GX",
    "ours_full": "trending-papers build: Dagster + GX checks, fresh data folder",
    "ours_incremental": "trending-papers build: one new day on top of the built history",
    "ours_full_api": "trending-papers build on the API files only (partner of dlt)",
    "dlt_parquet": "dlt, API files only, loader_file_format=parquet -> DuckDB",
    "dlt_default": "dlt, API files only, DuckDB's default loader files (insert_values)",
    "dlt_jsonl": "dlt, API files only, loader_file_format=jsonl -> DuckDB",
}


@dataclass
class Sample:
    """One run of one measurement."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str


@dataclass
class Measurement:
    """All runs of one measurement and how to run it once more."""

    name: str
    prepare: Callable[[int], tuple[list[str], dict[str, str], Path]]
    cleanup: Callable[[int], None] = lambda rep: None
    samples: list[Sample] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ok = [s for s in self.samples if s.returncode == 0]
        failed = [s for s in self.samples if s.returncode != 0]
        result: dict[str, Any] = {
            "description": DESCRIPTIONS[self.name],
            "ok": bool(self.samples) and not failed,
            "times_s": [round(s.seconds, 3) for s in self.samples],
            "peak_rss_mb": [round(s.peak_rss_bytes / 2**20, 1) for s in self.samples],
            "median_s": round(statistics.median(s.seconds for s in ok), 3) if ok else None,
            "median_peak_rss_mb": (
                round(statistics.median(s.peak_rss_bytes for s in ok) / 2**20, 1) if ok else None
            ),
        }
        if failed:
            result["error_tail"] = failed[-1].output[-3000:]
        return result


def run_measured(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Sample:
    """Run ``command`` to its end; its wall time and the peak RSS of its whole process tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        process = psutil.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        peak = 0
        tree: list[psutil.Process] = [process]
        refreshed = 0.0
        while process.poll() is None:
            now = time.perf_counter()
            if now - refreshed > TREE_REFRESH_SECONDS:
                try:
                    tree = [process, *process.children(recursive=True)]
                except psutil.Error:
                    tree = [process]
                refreshed = now
            total = 0
            for member in tree:
                # a child may have ended between the listing and now
                with contextlib.suppress(psutil.Error):
                    total += member.memory_info().rss
            peak = max(peak, total)
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
    output = log.read_text(encoding="utf-8", errors="replace")
    return Sample(seconds, peak, process.returncode, output)


def link_tree(source: Path, target: Path, subfolders: tuple[str, ...] | None = None) -> None:
    """Mirror ``source`` into ``target`` with hard links (no bytes copied, same inode content)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if subfolders is not None and relative.parts[0] not in subfolders:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def ensure_corpus(shape: str, seed: int, cache: Path) -> tuple[Path, Path, dict[str, Any]]:
    """Generate (or reuse) the cached corpus with the main environment; its folders + manifest."""
    command = [str(MAIN_PYTHON), "-m", "bench.corpus", "--shape", shape, "--seed", str(seed)]
    command += ["--cache", str(cache)]
    completed = subprocess.run(
        command,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(completed.stderr)
    landing = Path(completed.stdout.strip().splitlines()[-1])
    manifest = json.loads((landing / ".corpus.json").read_text(encoding="utf-8"))
    return landing, landing.parent / "next-day", manifest


def package_versions(python: Path, names: list[str]) -> dict[str, str]:
    code = (
        "import json, sys; from importlib.metadata import version, PackageNotFoundError\n"
        "def v(n):\n"
        "    try: return version(n)\n"
        "    except PackageNotFoundError: return None\n"
        "print(json.dumps({'python': sys.version.split()[0], "
        "**{n: v(n) for n in sys.argv[1:]}}))"
    )
    completed = subprocess.run(
        [str(python), "-c", code, *names], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def machine_info() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    # others may be editing the pipeline while it is measured: say whether the tree had changes
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": round(memory.total / GIB, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "git_commit": commit,
        "git_tree_modified": dirty,
        "main_env": package_versions(
            MAIN_PYTHON,
            ["polars", "pyarrow", "duckdb", "dagster", "great-expectations", "pandas", "orjson"],
        ),
        "bench_env": package_versions(
            Path(sys.executable), ["dlt", "duckdb", "pyarrow", "orjson", "psutil", "py-spy"]
        ),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


class Bench:
    """The measurements of one shape, their working folders, and the results."""

    def __init__(self, shape: str, seed: int, work: Path, cache: Path) -> None:
        self.shape = shape
        self.work = work
        self.landing_source, self.next_day, self.corpus = ensure_corpus(shape, seed, cache)
        remove(work)
        # hard-linked mirrors: the build's landing (to which the next day is added and removed
        # again) and the API files alone (the part dlt can load)
        self.landing = work / "landing"
        self.landing_api = work / "landing-api"
        link_tree(self.landing_source, self.landing)
        link_tree(self.landing_source, self.landing_api, ("hf-daily-api",))
        self.history = work / "history"
        self.next_files = sorted(p for p in self.next_day.rglob("*") if p.is_file())

    def data_dir(self, name: str, rep: int) -> Path:
        return self.work / f"{name}-{rep}"

    def env(self, landing: Path, data: Path) -> dict[str, str]:
        return {**os.environ, "PAPERS_LANDING_DIR": str(landing), "PAPERS_DATA_DIR": str(data)}

    def measurements(self, names: list[str]) -> list[Measurement]:
        made = {
            "floor": Measurement("floor", self._floor, self._cleanup("floor")),
            "ours_library": Measurement(
                "ours_library", self._library, self._cleanup("ours_library")
            ),
            "ours_full": Measurement("ours_full", self._full, self._cleanup_full),
            "ours_incremental": Measurement(
                "ours_incremental", self._incremental, self._cleanup_incremental
            ),
            "ours_full_api": Measurement(
                "ours_full_api", self._full_api, self._cleanup("ours_full_api")
            ),
            "dlt_parquet": Measurement(
                "dlt_parquet", self._dlt("parquet"), self._cleanup("dlt_parquet")
            ),
            "dlt_default": Measurement(
                "dlt_default", self._dlt("default"), self._cleanup("dlt_default")
            ),
            "dlt_jsonl": Measurement("dlt_jsonl", self._dlt("jsonl"), self._cleanup("dlt_jsonl")),
        }
        return [made[name] for name in names]

    # each prepare returns (command, environment, working directory) for one repetition

    def _floor(self, rep: int) -> tuple[list[str], dict[str, str], Path]:
        out = self.data_dir("floor", rep) / "floor.parquet"
        command = [str(MAIN_PYTHON), str(BENCH / "floor.py"), "--landing", str(self.landing)]
        return [*command, "--out", str(out)], dict(os.environ), REPO

    def _library(self, rep: int) -> tuple[list[str], dict[str, str], Path]:
        data = self.data_dir("ours_library", rep)
        command = [str(MAIN_PYTHON), "-c", LIBRARY_BUILD, str(self.landing), str(data)]
        return command, dict(os.environ), REPO

    def _full(self, rep: int) -> tuple[list[str], dict[str, str], Path]:
        data = self.data_dir("ours_full", rep)
        return [str(MAIN_CLI), "build"], self.env(self.landing, data), REPO

    def _full_api(self, rep: int) -> tuple[list[str], dict[str, str], Path]:
        data = self.data_dir("ours_full_api", rep)
        return [str(MAIN_CLI), "build"], self.env(self.landing_api, data), REPO

    def _incremental(self, rep: int) -> tuple[list[str], dict[str, str], Path]:
        if not self.history.is_dir():
            # ours_full was not asked for: build the history once, unmeasured
            self._build_history()
        data = self.data_dir("ours_incremental", rep)
        remove(data)
        shutil.copytree(self.history, data, symlinks=True)
        for path in self.next_files:
            destination = self.landing / path.relative_to(self.next_day)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)
        return [str(MAIN_CLI), "build"], self.env(self.landing, data), REPO

    def _build_history(self) -> None:
        subprocess.run(
            [str(MAIN_CLI), "build"],
            env=self.env(self.landing, self.history),
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _dlt(self, file_format: str) -> Callable[[int], tuple[list[str], dict[str, str], Path]]:
        def prepare(rep: int) -> tuple[list[str], dict[str, str], Path]:
            folder = self.data_dir(f"dlt_{file_format}", rep)
            command = [
                str(BENCH_BIN / "python"),
                str(BENCH / "dlt_pipeline.py"),
                "--landing",
                str(self.landing_api),
                "--db",
                str(folder / "dlt_load.duckdb"),
                "--work",
                str(folder / "pipelines"),
                "--format",
                file_format,
            ]
            folder.mkdir(parents=True, exist_ok=True)
            return command, dict(os.environ), REPO

        return prepare

    def _cleanup(self, name: str) -> Callable[[int], None]:
        return lambda rep: remove(self.data_dir(name, rep))

    def _cleanup_full(self, rep: int) -> None:
        data = self.data_dir("ours_full", rep)
        if not self.history.exists():
            data.rename(self.history)  # the first full build is the incremental's history
        else:
            remove(data)

    def _cleanup_incremental(self, rep: int) -> None:
        remove(self.data_dir("ours_incremental", rep))
        for path in self.next_files:
            (self.landing / path.relative_to(self.next_day)).unlink(missing_ok=True)

    def run(self, names: list[str], reps: int) -> list[Measurement]:
        measurements = self.measurements(names)
        for rep in range(reps):
            for measurement in measurements:
                command, env, cwd = measurement.prepare(rep)
                log = self.work / "logs" / f"{measurement.name}-{rep}.log"
                sample = run_measured(command, env, cwd, log)
                measurement.samples.append(sample)
                measurement.cleanup(rep)
                status = "ok" if sample.returncode == 0 else f"FAILED ({sample.returncode})"
                print(
                    f"[{self.shape} rep {rep + 1}/{reps}] {measurement.name}: "
                    f"{sample.seconds:.2f} s, peak RSS {sample.peak_rss_bytes / 2**20:,.0f} MB, "
                    f"{status}",
                    file=sys.stderr,
                    flush=True,
                )
        return measurements


def ge_share(full: Measurement) -> dict[str, Any] | None:
    """The Great Expectations share of each full build: its validate lines over its wall time."""
    shares, seconds = [], []
    for sample in full.samples:
        if sample.returncode != 0:
            continue
        validate = sum(float(x) for x in _VALIDATE_LINE.findall(sample.output))
        seconds.append(round(validate, 3))
        shares.append(validate / sample.seconds)
    if not shares:
        return None
    return {
        "description": "sum of the 'validate: ... (X s)' lines of ours_full / its wall time",
        "ge_seconds": seconds,
        "shares": [round(s, 4) for s in shares],
        "median_share": round(statistics.median(shares), 4),
    }


def ratios(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ratios the targets are stated in (targets are for the `stress` shape, 2 cores)."""

    def median(name: str) -> float | None:
        entry = results["measurements"].get(name)
        return entry["median_s"] if entry else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    full, floor, api = median("ours_full"), median("floor"), median("ours_full_api")
    peaks = [
        entry["median_peak_rss_mb"]
        for name, entry in results["measurements"].items()
        if name.startswith("ours_") and entry["median_peak_rss_mb"] is not None
    ]
    ge = results.get("ge_share")
    table: dict[str, dict[str, Any]] = {
        "ours_full / floor": {"value": ratio(full, floor), "target": "<= 3", "limit": 3.0},
        "ours_library / floor": {"value": ratio(median("ours_library"), floor), "target": None},
        "dlt_parquet / ours_full_api": {
            "value": ratio(median("dlt_parquet"), api),
            "target": ">= 5",
            "floor_value": 5.0,
        },
        "dlt_default / ours_full_api": {
            "value": ratio(median("dlt_default"), api),
            "target": None,
        },
        "dlt_jsonl / ours_full_api": {"value": ratio(median("dlt_jsonl"), api), "target": None},
        "ours_incremental / ours_full": {
            "value": ratio(median("ours_incremental"), full),
            "target": "<= 0.05",
            "limit": 0.05,
        },
        "GE share of ours_full": {
            "value": ge["median_share"] if ge else None,
            "target": "<= 0.25",
            "limit": 0.25,
        },
        "peak RSS of our builds (GiB)": {
            "value": round(max(peaks) / 1024, 3) if peaks else None,
            "target": "<= 3",
            "limit": 3.0,
        },
    }
    for entry in table.values():
        value = entry["value"]
        if value is None or entry["target"] is None:
            entry["met"] = None
        elif "limit" in entry:
            entry["met"] = value <= entry.pop("limit")
        else:
            entry["met"] = value >= entry.pop("floor_value")
        entry.pop("limit", None)
        entry.pop("floor_value", None)
    return table


def markdown(results: dict[str, Any]) -> str:
    corpus = results["corpus"]
    machine = results["machine"]
    lines = [
        f"### `{results['shape']}` (seed {results['seed']}, {results['reps']} reps, "
        f"{machine['date']}, {machine['cpu_affinity']} cores, {machine['memory_gib']} GiB)",
        "",
        f"Corpus: {corpus['api_files']:,} API files ({corpus['api_entries']:,} entries), "
        f"{corpus['captures']:,} captures ({corpus['capture_entries']:,} entries).",
        "",
        "| measurement | what | median s | all runs (s) | peak RSS (MB, median) |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for name, entry in results["measurements"].items():
        median = f"{entry['median_s']:.2f}" if entry["median_s"] is not None else "FAILED"
        runs = ", ".join(f"{t:.2f}" for t in entry["times_s"])
        rss = entry["median_peak_rss_mb"]
        what = entry["description"]
        if name.startswith("dlt"):
            what += " (captures: no dlt equivalent)"
        rss_text = f"{rss:,.0f}" if rss is not None else "-"
        lines.append(f"| {name} | {what} | {median} | {runs} | {rss_text} |")
    lines += [
        "",
        "| ratio | value | target (stress, 2 cores) | met |",
        "| --- | ---: | --- | --- |",
    ]
    for name, entry in results["ratios"].items():
        value = "-" if entry["value"] is None else f"{entry['value']:.3g}"
        met = {True: "yes", False: "**no**", None: "-"}[entry["met"]]
        lines.append(f"| {name} | {value} | {entry['target'] or '-'} | {met} |")
    return "\n".join(lines)


def profile(bench: Bench, names: list[str], shape: str) -> dict[str, str]:
    """Run each named measurement once more under py-spy; a flame graph next to the results.

    The flame graph counts wall-clock samples of every thread, idle ones included."""
    py_spy = BENCH_BIN / "py-spy"
    written: dict[str, str] = {}
    for measurement in bench.measurements(names):
        command, env, cwd = measurement.prepare(99)
        svg = RESULTS_DIR / f"{shape}-{measurement.name}-profile.svg"
        svg.parent.mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(
            # --idle: without it, time the main thread spends waiting (on Polars' and DuckDB's
            # native threads, on I/O) is dropped, and native-heavy steps look cheap
            [
                str(py_spy),
                "record",
                "--subprocesses",
                "--idle",
                "--rate",
                "50",
                "-o",
                str(svg),
                "--",
                *command,
            ],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        measurement.cleanup(99)
        if completed.returncode != 0:
            sys.stderr.write(completed.stderr[-2000:])
        written[measurement.name] = str(svg.relative_to(REPO))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shape", default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)} (default: all)"
    )
    parser.add_argument("--skip", default="", help="comma-separated measurements to leave out")
    parser.add_argument(
        "--profile", default="", help="comma-separated measurements to profile once with py-spy"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep bench/.work/<shape>")
    parser.add_argument(
        "--work", type=Path, help="folder for the runs' data (default: bench/.work/<shape>)"
    )
    parser.add_argument(
        "--corpus-cache", type=Path, default=CORPUS_CACHE, help="cache of generated corpora"
    )
    parser.add_argument(
        "--out", type=Path, help="results file (default bench/results/<shape>.json)"
    )
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(MEASUREMENTS)
    skip = args.skip.split(",") + ([] if args.only else list(DEFAULT_SKIP.get(args.shape, ())))
    names = [n for n in names if n and n not in skip]
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        parser.error(f"unknown measurements: {unknown}")

    machine = machine_info()
    bench = Bench(args.shape, args.seed, args.work or WORK_DIR / args.shape, args.corpus_cache)
    measurements = bench.run(names, args.reps)
    results: dict[str, Any] = {
        "shape": args.shape,
        "seed": args.seed,
        "reps": args.reps,
        "machine": machine,
        "corpus": bench.corpus,
        "measurements": {m.name: m.summary() for m in measurements},
    }
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    full = next((m for m in measurements if m.name == "ours_full"), None)
    results["ge_share"] = ge_share(full) if full else None
    results["ratios"] = ratios(results)
    out = args.out or RESULTS_DIR / f"{args.shape}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # written before profiling too, so a long profile that is cut short loses no measurement
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.profile:
        results["profiles"] = profile(bench, args.profile.split(","), args.shape)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.keep_work:
        remove(bench.work)
    print(markdown(results))
    print(f"\nresults: {out}", file=sys.stderr)
    if not all(entry["ok"] for entry in results["measurements"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
