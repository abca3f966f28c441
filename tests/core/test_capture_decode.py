"""The links of text browsers and exporters, rewritten as Markdown links line for line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipelines.core.ingest.capture_decode import decode_tool_links

LYNX = [
    "   [1]Subscribe",
    "   [2]21",
    "",
    "[3]Block Diffusion: Interpolating Between Autoregressive and Diffusion",
    "Language Models",
    "",
    "   [4]Diffusion language models offer unique benefits over autoregressive",
    "   models due to their potential for parallelized generation and",
    "   controllability, yet they lag in likelihood modeling and are limited to",
    "   fixed-length generation. See [5]the project page and reference [12].",
    "",
    "   [6][cornell] Cornell University",
    "by [7]AK and the research community",
    "",
    "References",
    "",
    "   1. https://huggingface.co/login?next=%2Fpapers",
    "   2. https://huggingface.co/login?next=%2Fpapers%2F2503.09573",
    "   3. https://huggingface.co/papers/2503.09573",
    "   4. https://huggingface.co/papers/2503.09573",
    "   5. https://m-arriola.com/bd3lms/",
    "   6. https://huggingface.co/cornell",
    "   7. https://huggingface.co/akhaliq",
]


def _decode(lines: list[str]) -> list[str]:
    return decode_tool_links(lines, 0, len(lines))


def test_numbered_links_of_a_text_browser_become_markdown_links() -> None:
    decoded = _decode(LYNX)
    assert len(decoded) == len(LYNX)
    assert decoded[:6] == [
        "   [Subscribe](https://huggingface.co/login?next=%2Fpapers)",
        "   [21](https://huggingface.co/login?next=%2Fpapers%2F2503.09573)",
        "",
        # a title the browser wrapped is one link again; its second line is left blank
        "[Block Diffusion: Interpolating Between Autoregressive and Diffusion Language Models]"
        "(https://huggingface.co/papers/2503.09573)",
        "",
        "",
    ]
    # an abstract that is a link keeps its text without the numbers; an unknown number stays
    assert decoded[6] == "   Diffusion language models offer unique benefits over autoregressive"
    assert decoded[9] == "   fixed-length generation. See the project page and reference [12]."
    # the image's alt text in brackets is dropped from the link's text
    assert decoded[11] == "   [Cornell University](https://huggingface.co/cornell)"
    assert decoded[12] == "by AK and the research community"
    # the reference list has been read: nothing of it is left to the parser
    assert decoded[14:] == [""] * (len(LYNX) - 14)


def test_a_references_heading_without_numbered_urls_is_left_alone() -> None:
    lines = ["## References", "", "- Attention Is All You Need", "", "See [1] and [2]."]
    assert _decode(lines) == lines


def test_text_then_url_becomes_a_link_when_the_capture_is_written_that_way() -> None:
    pairs = [
        "Models",
        "",
        "https://huggingface.co/models",
        "",
        "Qwen2.5-VL Technical Report",
        "",
        "https://huggingface.co/papers/2502.13923",
        "",
        " Qwen",
        "",
        "https://huggingface.co/Qwen",
    ]
    assert _decode(pairs) == [
        "[Models](https://huggingface.co/models)",
        "",
        "",
        "",
        "[Qwen2.5-VL Technical Report](https://huggingface.co/papers/2502.13923)",
        "",
        "",
        "",
        "[Qwen](https://huggingface.co/Qwen)",
        "",
        "",
    ]
    # one or two such pairs are an ordinary text that pastes a URL on its own line
    assert _decode(pairs[:7]) == pairs[:7]


def test_a_wrapped_paragraph_ending_in_a_url_is_not_a_link() -> None:
    lines = ["Our code is at", "https://github.com/a/b", "", "Next", "", "https://x.org/a"] * 3
    decoded = _decode(lines)
    assert decoded[1] == "https://github.com/a/b"  # no blank line between text and URL
    assert decoded[3] == "[Next](https://x.org/a)"


@given(
    st.lists(
        st.sampled_from(
            ["", "References", "  1. https://a.b/c", "[1]Title", "[2]", "x [1] y", "[", "]",
             "https://huggingface.co/papers/2503.01234", "text", "   12. https://x.y"]
        ),
        max_size=30,
    )
)  # fmt: skip
def test_decoding_keeps_the_line_count(lines: list[str]) -> None:
    decoded = _decode(lines)
    assert len(decoded) == len(lines)
    assert _decode(lines) == decoded
