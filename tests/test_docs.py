"""The documentation is reference: every relative link resolves, and no process words appear.

(a) Every relative link of README.md, CONTRIBUTING.md and docs/*.md names a file or directory
inside the repository, and a ``#anchor`` names a heading of its target (GitHub's heading slugs).
(b) Docs and the Python sources under rtl/, tb/, sim/, models/ and tests/ carry no process
references (ticket or iteration numbers, work sessions): history belongs in commit messages.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted(p for d in ("rtl", "tb", "sim", "models", "tests")
                 for p in (ROOT / d).rglob("*.py") if p != Path(__file__).resolve())

# "issue 6", "issues 3", "stop 13", "it4p", "this session", "the integrator". Variable names such
# as a decoder ``session`` do not match: a session word needs a word that makes it a work period.
PROCESS_WORDS = re.compile(
    r"\bissues? \d|\bstop \d+\b|\bit\d+p?\b|\bintegrator\b"
    r"|\b(?:this|previous|last|same|next|earlier|first|second) session\b",
    re.IGNORECASE,
)

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """Markdown without fenced blocks and code spans (their brackets are not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in LINK.findall(_prose(path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        name, _, anchor = target.partition("#")
        dest = (path.parent / name).resolve() if name else path
        if not dest.is_relative_to(root):
            problems.append(f"{target}: outside the repository")
        elif not dest.exists():
            problems.append(f"{target}: no such file")
        elif anchor and dest.is_file() and anchor not in anchors(dest):
            problems.append(f"{target}: no heading #{anchor} in {dest.relative_to(root)}")
    return problems


def process_lines(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text().splitlines(), 1)
            if PROCESS_WORDS.search(line)]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_link_check_catches_missing_files_anchors_and_escapes(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# Two commands\n")
    (tmp_path / "docs" / "timing.md").write_text("# Synthesis (`make synth`)\n")
    page = tmp_path / "docs" / "probe.md"
    page.write_text("[a](timing.md#synthesis-make-synth) [b](nope.md) [c](timing.md#no-such)\n"
                    "[d](../../outside.md) [e](https://example.org) `[f](nope.md)`\n"
                    "[g](#probe) [h](../README.md#two-commands) [i](../docs/)\n\n# Probe\n")
    assert broken_links(page, tmp_path) == [
        "nope.md: no such file",
        "timing.md#no-such: no heading #no-such in docs/timing.md",
        "../../outside.md: outside the repository",
    ]


def test_slugs_follow_github():
    assert slug("Synthesis and timing closure (`make synth`, SPEC 8)") == \
        "synthesis-and-timing-closure-make-synth-spec-8"
    assert slug("4.2 Pulse indexing") == "42-pulse-indexing"


def test_docs_carry_no_process_words():
    assert [line for path in DOCS for line in process_lines(path)] == []


def test_sources_carry_no_process_words():
    assert [line for path in SOURCES for line in process_lines(path)] == []


@pytest.mark.parametrize("text", [
    "fixed in issue 6", "Issue 6/4: the deadlock", "as of stop 13", "it4p: it3p + raw",
    "measured this session", "the integrator's run"])
def test_process_words_are_caught(text):
    assert PROCESS_WORDS.search(text)


@pytest.mark.parametrize("text", [
    "session = ec.GroundDecoder(y, q)", "the bit0 lane", "the issue of latency", "stop 2x",
    "submit 3 items"])
def test_ordinary_words_pass(text):
    assert not PROCESS_WORDS.search(text)
