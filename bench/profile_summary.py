"""Summarise a py-spy flame graph (SVG): where the samples went, as a short table.

py-spy's SVG holds one ``<title>function (file:line) (N samples, P%)</title>`` per stack node.
Summing the nodes of one function over all stacks gives its inclusive share (a recursive function
is counted once per level, so read those with care). Only the standard library is needed:
``python bench/profile_summary.py bench/results/years-ours_full-profile.svg [--top 25]``.
"""

from __future__ import annotations

import argparse
import html
import re
from collections import defaultdict
from pathlib import Path

_TITLE = re.compile(r"<title>(.*?) \(([\d,]+) samples?, ([\d.]+)%\)</title>", re.DOTALL)
_WHERE = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def summarise(svg: Path, top: int, match: str | None) -> list[tuple[str, int, float]]:
    """The ``top`` functions by inclusive samples: ``(function (file), samples, percent)``."""
    text = svg.read_text(encoding="utf-8")
    samples: dict[str, int] = defaultdict(int)
    total = 0
    for raw, count, _percent in _TITLE.findall(text):
        label = html.unescape(raw)
        where = _WHERE.match(label)
        name = f"{where['function']} ({_short(where['file'])})" if where else label
        value = int(count.replace(",", ""))
        if label == "all":
            total = value
            continue
        samples[name] += value
    total = total or max(samples.values(), default=1)
    rows = sorted(samples.items(), key=lambda item: -item[1])
    if match:
        rows = [row for row in rows if re.search(match, row[0])]
    return [(name, value, 100 * value / total) for name, value in rows[:top]]


def _short(file: str) -> str:
    # site-packages paths are long; the package and module say enough
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("svg", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="only functions whose label matches this regex")
    args = parser.parse_args(argv)
    print("| function (file) | samples | inclusive % |")
    print("| --- | ---: | ---: |")
    for name, value, percent in summarise(args.svg, args.top, args.match):
        print(f"| {name} | {value:,} | {percent:.1f} |")


if __name__ == "__main__":
    main()
