"""The harness's own rules: how output is compared, how blocks and annotations are read, and that
a file's session runs commands in one shell and stops what it started."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sybil import Document

from docs_harness import Session, fenced_blocks, output_matches, parse_annotation, parse_console


def test_output_is_compared_line_by_line_ignoring_trailing_spaces() -> None:
    assert output_matches(["valid: yes", "tier:  team"], "valid: yes  \ntier:  team\n")
    assert not output_matches(["valid: yes"], "valid: no\n")
    assert not output_matches(["valid: yes"], "valid: yes\nextra line\n")


def test_an_ellipsis_in_a_line_matches_any_text_of_that_line_only() -> None:
    assert output_matches(["checked at:   ..."], "checked at:   2026-12-07T03:00:00Z\n")
    assert output_matches(["license id:   lic_...", "tier: team"], "license id:   lic_3a31\ntier: team\n")
    assert not output_matches(["a ... b"], "a x\ny b\n")


def test_a_line_of_only_an_ellipsis_matches_any_number_of_lines() -> None:
    assert output_matches(["first", "...", "last"], "first\nlast\n")
    assert output_matches(["first", "...", "last"], "first\n1\n2\n3\nlast\n")
    assert not output_matches(["first", "...", "last"], "first\n1\n")


def test_a_command_that_prints_nothing_shows_nothing() -> None:
    assert output_matches([], "")
    assert not output_matches([], "something\n")


def test_console_blocks_split_into_commands_and_their_output() -> None:
    steps = parse_console('$ echo a \\\n  b\na b\n$ true\n$ printf "x\\n"\nx\n')
    assert steps == [("echo a \\\n  b", ["a b"]), ("true", []), ('printf "x\\n"', ["x"])]
    with pytest.raises(ValueError, match="output before the first"):
        parse_console("orphan output\n$ true\n")


def test_annotations_are_read_and_unknown_ones_refused() -> None:
    assert parse_annotation("file=app.py timeout=300 needs=wasm,python-develop", "x.md", 1) == {
        "file": "app.py",
        "timeout": 300.0,
        "needs": ["wasm", "python-develop"],
    }
    assert parse_annotation('not-run "a Stripe dashboard step"', "x.md", 1) == {"not_run": "a Stripe dashboard step"}
    with pytest.raises(ValueError, match="needs a reason"):
        parse_annotation("not-run", "x.md", 3)
    with pytest.raises(ValueError, match="unknown docs-test annotation"):
        parse_annotation("skip", "x.md", 3)


def test_only_the_comment_right_above_a_fence_annotates_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: file=a.py -->\n```python\nx = 1\n```\n\ntext\n\n```console\n$ true\n```\n"
        "~~~sh\necho ```\n~~~\n"
    )
    blocks = [b for _, _, _, b in fenced_blocks(Document(page.read_text(), str(page)))]
    assert [(b.language, b.file, b.line) for b in blocks] == [("python", "a.py", 2), ("console", None, 8), ("sh", None, 11)]
    assert blocks[2].source == "echo ```\n"


def test_a_session_keeps_state_between_commands_and_stops_its_background_jobs() -> None:
    session = Session("page.md")
    try:
        assert session.run("cd /tmp && X=42", 10) == (0, "")
        assert session.run('echo "$PWD $X"; echo err >&2', 10) == (0, "/tmp 42\nerr\n")
        assert session.run("false", 10)[0] == 1
        assert session.run("cat", 10) == (0, "")  # stdin is /dev/null: nothing waits for input
        assert session.localize("curl localhost:8080/x 127.0.0.1:8000 :8080 127.0.0.1:80801") == (
            f"curl localhost:{session.ports[8080]}/x 127.0.0.1:{session.ports[8000]} :8080 127.0.0.1:80801"
        )
        status, env = session.run('echo "$LISTEN_ADDR $UVICORN_PORT $PORT $VIEWER_PORT"', 10)
        assert env.split() == [f"127.0.0.1:{session.ports[8080]}"] + [
            str(session.ports[p]) for p in (8000, 3000, 8088)
        ]
        session.background("sleep 300")
        status, pid = session.run("echo $!", 10)
        assert status == 0
    finally:
        session.close()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)


def test_a_command_past_its_deadline_fails_and_is_stopped() -> None:
    session = Session("page.md")
    with pytest.raises(TimeoutError, match="did not finish within 1 s"):
        session.run("echo started; sleep 60", 1)
    with pytest.raises(ProcessLookupError):
        os.killpg(session.proc.pid, 0)


def test_an_output_block_belongs_to_the_shell_block_right_before_it(tmp_path: Path) -> None:
    from docs_harness import BlockParser

    page = tmp_path / "page.md"
    page.write_text("```sh\necho hi\n```\n\n```output\nhi\n```\n")
    regions = list(BlockParser()(Document(page.read_text(), str(page))))
    assert [r.parsed.output for r in regions[1:]] == [["hi"]]
    page.write_text("```sh\necho hi\n```\ntext\n```output\nhi\n```\n")
    with pytest.raises(ValueError, match="directly"):
        list(BlockParser()(Document(page.read_text(), str(page))))
    page.write_text("```console\n$ echo hi\nhi\n```\n```output\nhi\n```\n")
    with pytest.raises(ValueError, match="must follow the sh block"):
        list(BlockParser()(Document(page.read_text(), str(page))))


def test_the_blocks_not_run_are_the_ones_writing_docs_lists() -> None:
    """Every page with a `not-run` block is named in docs/writing-docs.md's list, once per block."""
    from docs_harness import PATTERNS, REPO

    pages = sorted({p for pattern in PATTERNS for p in REPO.glob(pattern)})
    not_run = sorted(
        page.relative_to(REPO).as_posix()
        for page in pages
        for _, _, _, block in fenced_blocks(Document(page.read_text(), str(page)))
        if block.not_run is not None
    )
    section = (REPO / "docs" / "writing-docs.md").read_text().split("## Not executed", 1)[1]
    listed = sorted(re.findall(r"^\* `([^`]+)`:", section, re.M))
    assert not_run == listed, f"blocks not run: {not_run}; docs/writing-docs.md lists {listed}"
