"""Smoke test of bench/: the corpus is deterministic and the runner runs end to end.

No timing is asserted: CI machines are shared and noisy. The runner lives in its own environment
(bench/.venv, with dlt and psutil, which the project must not depend on); it is created here from
the hashed lock bench/requirements.txt when missing, as ``make bench`` would.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from bench import corpus

REPO = Path(__file__).resolve().parent.parent
BENCH_VENV = REPO / "bench" / ".venv"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
SYNCED_MARKER = BENCH_VENV / ".synced"


def measurement_names() -> set[str]:
    """MEASUREMENTS of bench/run.py, read from its source: it imports psutil, which this
    environment does not have (on purpose)."""
    tree = ast.parse((REPO / "bench" / "run.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MEASUREMENTS":
            return set(ast.literal_eval(node.value))
    raise AssertionError("bench/run.py defines no MEASUREMENTS")


def digests(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_tiny_corpus_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        corpus.generate("tiny", 7, tmp_path / name / "landing", tmp_path / name / "next-day")
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second
    api = [key for key in first if key.startswith("landing/hf-daily-api/")]
    captures = [key for key in first if key.startswith("landing/trending-page/")]
    assert len(api) == 10 and len(captures) == 5
    assert sorted(key.split("/", 1)[1] for key in first if key.startswith("next-day/")) == [
        "hf-daily-api/2021-01-14.json",
        "trending-page/trending-2021-01-14.txt",
    ]
    # every real format is there: plain lists, repr-string items, the wrapped response
    documents = [orjson.loads((tmp_path / "a" / key).read_bytes()) for key in api]
    assert any(isinstance(d, dict) and isinstance(d["data"][0], str) for d in documents)
    assert any(isinstance(d, list) and isinstance(d[0], str) for d in documents)
    assert any(isinstance(d, list) and isinstance(d[0], dict) for d in documents)
    capture = (tmp_path / "a" / captures[0]).read_text(encoding="utf-8").split("\n")
    assert capture[0] == "new" and capture[8] == "Jan 5"
    # another seed gives another corpus
    corpus.generate("tiny", 8, tmp_path / "c" / "landing")
    assert digests(tmp_path / "c" / "landing") != digests(tmp_path / "a" / "landing")


def find_uv() -> list[str]:
    uv = shutil.which("uv")
    if uv:
        return [uv]
    tools = REPO / ".tools" / "bin" / "uv"
    if tools.is_file():
        return [str(tools)]
    return [sys.executable, "-m", "uv"]


def ensure_bench_venv() -> None:
    """Create bench/.venv from the lock when missing (what `make bench` does first)."""
    lock = REPO / "bench" / "requirements.txt"
    if SYNCED_MARKER.is_file() and SYNCED_MARKER.stat().st_mtime >= lock.stat().st_mtime:
        return
    uv = find_uv()
    subprocess.run(
        [*uv, "venv", "--quiet", "--allow-existing", "--python", "3.11", str(BENCH_VENV)],
        check=True,
        cwd=REPO,
    )
    subprocess.run(
        [*uv, "pip", "sync", "--quiet", "--python", str(BENCH_PYTHON), str(lock)],
        check=True,
        cwd=REPO,
    )
    SYNCED_MARKER.touch()


def test_bench_runner_end_to_end_on_tiny(tmp_path: Path) -> None:
    ensure_bench_venv()
    out = tmp_path / "tiny.json"
    command = [str(BENCH_PYTHON), "-m", "bench.run", "--shape", "tiny", "--reps", "1"]
    # its own folders: another run of this test (or make bench) may be going on at once
    command += ["--out", str(out), "--work", str(tmp_path / "work")]
    command += ["--corpus-cache", str(tmp_path / "corpus")]
    completed = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results["measurements"]) == measurement_names()
    for name, entry in results["measurements"].items():
        assert entry["ok"], name
        assert len(entry["times_s"]) == 1 and entry["median_s"] > 0, name
        assert entry["median_peak_rss_mb"] > 0, name
    assert results["ge_share"]["median_share"] > 0
    assert {"ours_full / floor", "dlt_parquet / ours_full_api"} <= set(results["ratios"])
    assert results["machine"]["cpu_count"] and results["corpus"]["api_files"] == 10
    assert "| ours_full |" in completed.stdout
