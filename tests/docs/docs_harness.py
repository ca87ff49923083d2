"""Runs the code blocks of README.md and docs/**/*.md as a reader would paste them.

A pytest plugin built on Sybil (`python -m pytest -p docs_harness README.md docs`): every fenced
block of a Markdown file becomes a test, run in order. The conventions a writer follows are in
docs/writing-docs.md; this module is their one implementation:

* ```console``: a terminal session: `$ ` lines are commands, the lines under them the output they
  must print (stdout and stderr together); `...` inside a line matches any text, a line of only
  `...` any number of lines. A command must exit 0 unless the block shows otherwise (`; echo "exit $?"`).
* ```sh`` / ```bash``: a script that must exit 0. When an ```output`` block follows it (nothing
  but blank lines between), that is what the script prints; otherwise its output is not compared.
* ```python``: run in one namespace per file (Sybil); blocks starting with `>>>` compare output.
* ```rust``: run as doctests by `cargo test` (the file must be listed in core/src/lib.rs).
* Any block preceded by `<!-- docs-test: file=PATH -->` is written to PATH (relative to the
  session's current directory) for a later command to use, instead of being run itself.
* `<!-- docs-test: background -->`: a sh block started in the background (a server); stopped with
  everything else the file started when the file is done.
* `<!-- docs-test: timeout=SECONDS -->`: the deadline of each command of the block (default 120).
* `<!-- docs-test: needs=TARGET[,TARGET] -->`: `make TARGET` is run first (once per run).
* `<!-- docs-test: same-as=PATH -->`: the block shows a file of the repository: it must match it
  (a later command runs the file).
* `<!-- docs-test: tested-by=PATH -->`: run by the test at PATH (which must name this page).
* `<!-- docs-test: not-run REASON -->`: not executed; listed with its reason at the end of the run.

All console and sh blocks of one file share one bash session that starts at the repository root,
as one terminal would. The documented ports (8080 the license server, 8000 uvicorn, 3000 Next.js,
8088 the license viewer) are replaced by free ports chosen per file, and the variable each server
reads its port from is set, so runs on a shared machine do not collide; the server's SQLite
database is a fresh file per file (`DATABASE_URL`); builds reuse the test build (`RUN_PROFILE=dev`,
`MATURIN_PEP517_ARGS=--profile dev`); `make install` installs into the run's scratch directory.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sybil import Document, Example, Lexeme, Region, Sybil
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.abstract.doctest import DocTestStringParser
from sybil.parsers.markdown.lexers import FENCE

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 120.0
# Languages a reader runs in a shell: console shows prompts and output, sh/bash only commands.
SHELL_LANGUAGES = {"sh", "bash", "shell"}
# The comment must be the last thing before the fence (blank lines aside).
ANNOTATION = re.compile(r"<!--\s*docs-test:\s*(?P<body>(?:(?!-->).)*?)\s*-->\s*$", re.DOTALL)
# Documents the harness reads: the front door and everything under docs/.
PATTERNS = ["README.md", "docs/**/*.md", "docs/*.md"]

# Blocks marked not-run, reported at the end of the run: (file, line, reason).
NOT_RUN: List[Tuple[str, int, str]] = []
# make targets already run for `needs=` in this pytest run.
_MADE: set[str] = set()


@dataclass
class Block:
    """One fenced block and what its annotation asks for."""

    language: str
    source: str
    line: int
    file: Optional[str] = None
    background: bool = False
    timeout: float = DEFAULT_TIMEOUT
    needs: List[str] = field(default_factory=list)
    tested_by: Optional[str] = None
    same_as: Optional[str] = None
    output: Optional[List[str]] = None
    not_run: Optional[str] = None


def parse_annotation(body: str, path: str, line: int) -> Dict[str, Any]:
    """Reads `key=value`, `flag` and `not-run REASON` words of a docs-test comment."""
    if body.startswith("not-run"):
        reason = body[len("not-run") :].strip().strip('"')
        if not reason:
            raise ValueError(f"{path}:{line}: `not-run` needs a reason")
        return {"not_run": reason}
    out: Dict[str, Any] = {}
    for word in shlex.split(body):
        key, _, value = word.partition("=")
        if key == "file" and value:
            out["file"] = value
        elif key == "background" and not value:
            out["background"] = True
        elif key == "timeout" and value:
            out["timeout"] = float(value)
        elif key == "needs" and value:
            out["needs"] = [t for t in value.split(",") if t]
        elif key == "same-as" and value:
            out["same_as"] = value
        elif key == "tested-by" and value:
            out["tested_by"] = value
        else:
            raise ValueError(f"{path}:{line}: unknown docs-test annotation {word!r}")
    return out


def fenced_blocks(document: Document) -> Iterable[Tuple[int, int, int, Block]]:
    """Every fenced block of the document, with the annotation just above it."""
    text = document.text
    index = 0
    while True:
        opening = FENCE.search(text, index)
        if opening is None:
            return
        fence = opening.group("fence")
        prefix = opening.group("prefix")
        if prefix.strip() == "" and len(prefix.expandtabs(4)) >= 4:
            index = opening.end()  # inside an indented code block: an example, not a fence
            continue
        closing = re.compile(
            r"^" + re.escape(prefix) + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$",
            re.MULTILINE,
        ).search(text, opening.end())
        end = closing.end() if closing else len(text)
        content_end = closing.start() if closing else len(text)
        body = text[opening.end() + 1 : content_end]
        if prefix.strip() == "":
            body = "\n".join(l[len(prefix) :] if l.startswith(prefix) else l for l in body.split("\n"))
        line = text.count("\n", 0, opening.start()) + 1
        language = opening.group("trailing").strip().split(" ")[0]
        block = Block(language=language, source=body, line=line)
        annotation = ANNOTATION.search(text[max(0, opening.start() - 400) : opening.start()])
        if annotation:
            for key, value in parse_annotation(annotation.group("body"), document.path, line).items():
                setattr(block, key, value)
        yield opening.start(), end, opening.end() + 1, block
        index = end


# The ports the pages use, and the variable each server there reads its port or address from.
PORTS = {8080: "LISTEN_ADDR", 8000: "UVICORN_PORT", 3000: "PORT", 8088: "VIEWER_PORT"}


class Session:
    """One bash process per Markdown file: a reader's terminal."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.scratch = Path(tempfile.mkdtemp(prefix="docs-test-"))
        self.ports = {documented: free_port() for documented in PORTS}
        self.port = self.ports[8080]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        venv = env.pop("VIRTUAL_ENV", None)
        if venv:
            env["PATH"] = os.pathsep.join(
                p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv)
            )
        install_root = self.scratch / "cargo-install"
        env["PATH"] = os.pathsep.join([str(install_root / "bin"), env.get("PATH", "")])
        env.update(
            {
                "TERM": "dumb",
                "NO_COLOR": "1",
                "DATABASE_URL": f"sqlite://{self.scratch}/dev-health.db",
                "RUN_PROFILE": "dev",
                "MATURIN_PEP517_ARGS": "--profile dev",
                "CARGO_INSTALL_ROOT": str(install_root),
                "DOCS_TEST": "1",
            }
        )
        for documented, variable in PORTS.items():
            port = self.ports[documented]
            env[variable] = f"127.0.0.1:{port}" if variable == "LISTEN_ADDR" else str(port)
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.count = 0
        self.background_logs: List[Path] = []

    def localize(self, text: str) -> str:
        """The text with the documented ports replaced by this file's."""
        return re.sub(
            r"(127\.0\.0\.1|localhost):(8080|8000|3000|8088)\b",
            lambda m: f"{m.group(1)}:{self.ports[int(m.group(2))]}",
            text,
        )

    def run(self, command: str, timeout: float) -> Tuple[int, str]:
        """Runs `command` in the session (stdin from /dev/null); returns its status and output."""
        self.count += 1
        script = self.scratch / f"cmd{self.count}.sh"
        out = self.scratch / f"out{self.count}.txt"
        script.write_text(self.localize(command) + "\n")
        marker = f"__docs_test_done_{self.count}__"
        line = f"source {shlex.quote(str(script))} < /dev/null > {shlex.quote(str(out))} 2>&1; echo {marker} $?\n"
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        buffer = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise TimeoutError(f"`{command}` did not finish within {timeout:.0f} s; output so far:\n{read(out)}{self.logs()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the shell exited while running `{command}`:\n{read(out)}{self.logs()}")
            buffer += chunk
            match = re.search(rb"__docs_test_done_%d__ (\d+)\n" % self.count, buffer)
            if match:
                return int(match.group(1)), read(out)

    def background(self, script_text: str) -> None:
        """Starts a script in the background; its output goes to a log shown on failures."""
        self.count += 1
        script = self.scratch / f"bg{self.count}.sh"
        log = self.scratch / f"bg{self.count}.log"
        script.write_text(self.localize(script_text) + "\n")
        self.background_logs.append(log)
        status, output = self.run(f"( source {shlex.quote(str(script))} ) < /dev/null > {shlex.quote(str(log))} 2>&1 &", 10)
        if status != 0:
            raise AssertionError(f"could not start the background block: {output}")

    def logs(self) -> str:
        parts = [f"\n--- background output ({log.name}) ---\n{read(log)[-4000:]}" for log in self.background_logs]
        return "".join(parts)

    def close(self) -> None:
        """Stops the shell and everything it started (one process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # Servers started in the background may outlive bash for a moment: wait for the group.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_of(example: Example) -> Session:
    namespace = example.namespace
    session = namespace.get("_docs_session")
    if not isinstance(session, Session):
        session = namespace["_docs_session"] = Session(example.path)
    return session


def make_needs(block: Block) -> None:
    for target in block.needs:
        if target in _MADE:
            continue
        done = subprocess.run(["make", "-s", target], cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"`make {target}` (needed by this block) failed:\n{done.stdout}{done.stderr}")
        _MADE.add(target)


def parse_console(source: str) -> List[Tuple[str, List[str]]]:
    """`$ ` commands (with `\\` continuation lines) and the output lines under each."""
    steps: List[Tuple[str, List[str]]] = []
    lines = source.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ ") and line != "$":
            if not steps:
                raise ValueError(f"console block: output before the first `$ ` command: {line!r}")
            steps[-1][1].append(line)
            i += 1
            continue
        command = [line[2:]]
        while command[-1].endswith("\\") and i + 1 < len(lines):
            i += 1
            command.append(lines[i])
        steps.append(("\n".join(command), []))
        i += 1
    return steps


def output_matches(expected: List[str], actual: str) -> bool:
    """Line by line; `...` in a line is any text, a line of only `...` any number of lines."""
    pattern = []
    for line in expected:
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            parts = [re.escape(p) for p in line.rstrip().split("...")]
            pattern.append("[^\n]*?".join(parts) + r"\n")
    actual_lines = "".join(l.rstrip() + "\n" for l in actual.rstrip("\n").split("\n")) if actual.strip() else ""
    return re.fullmatch("".join(pattern), actual_lines) is not None


def run_console(example: Example, block: Block) -> None:
    session = session_of(example)
    for command, expected in parse_console(block.source):
        status, output = session.run(command, block.timeout)
        expected = [session.localize(l) for l in expected]
        where = f"{example.path}:{block.line}"
        if status != 0:
            raise AssertionError(f"{where}: `{command}` exited {status}:\n{output}{session.logs()}")
        if not output_matches(expected, output):
            raise AssertionError(
                f"{where}: `{command}` printed something else.\n--- the docs show ---\n"
                + "\n".join(expected)
                + f"\n--- it printed ---\n{output}{session.logs()}"
            )


def run_shell(example: Example, block: Block) -> None:
    session = session_of(example)
    if block.background:
        session.background(block.source)
        return
    status, output = session.run(block.source, block.timeout)
    if status != 0:
        raise AssertionError(f"{example.path}:{block.line}: the block exited {status}:\n{output}{session.logs()}")
    if block.output is not None:
        expected = [session.localize(line) for line in block.output]
        if not output_matches(expected, output):
            raise AssertionError(
                f"{example.path}:{block.line}: the block printed something else.\n--- the docs show ---\n"
                + "\n".join(expected)
                + f"\n--- it printed ---\n{output}{session.logs()}"
            )


def write_file(example: Example, block: Block) -> None:
    session = session_of(example)
    status, cwd = session.run("pwd", 10)
    target = (Path(cwd.strip()) / str(block.file)).resolve()
    if target.is_relative_to(REPO):
        raise AssertionError(
            f"{example.path}:{block.line}: file={block.file} would be written inside the repository "
            f"({target}): `cd` to a scratch directory first (`cd \"$(mktemp -d)\"`), so a run leaves "
            "the checkout as it was"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.source)


LINK = re.compile(r"\]\((?!https?:|mailto:|#)(?P<target>[^)\s#]+)(?:#[^)\s]*)?\)")


def check_links(example: Example) -> None:
    """Relative links resolve, and the contract is cited as the repository's own page."""
    text = Path(example.path).read_text()
    base = Path(example.path).parent
    broken = [m.group("target") for m in LINK.finditer(text) if not (base / m.group("target")).exists()]
    assert not broken, f"{example.path}: links to missing files: {', '.join(broken)}"
    cited = [m.group(0) for m in re.finditer(r"\bSPEC(?:\.md| §)[^\s,;)]*", text)]
    assert not cited, (
        f"{example.path}: cites {', '.join(cited)}, which is not in the repository: "
        "link the contract page (docs/contract.md) instead"
    )


def check_tested_by(example: Example, block: Block) -> None:
    relative = Path(example.path).resolve().relative_to(REPO).as_posix()
    test = REPO / str(block.tested_by)
    assert test.is_file(), f"{relative}:{block.line}: tested-by={block.tested_by}: no such file"
    assert relative in test.read_text(), (
        f"{relative}:{block.line}: {block.tested_by} does not read {relative}, so it cannot be "
        "what runs this block"
    )


def check_same_as(example: Example, block: Block) -> None:
    shown = REPO / str(block.same_as)
    assert shown.is_file(), f"{example.path}:{block.line}: same-as={block.same_as}: no such file"
    assert block.source.strip() == shown.read_text().strip(), (
        f"{example.path}:{block.line}: the block differs from {block.same_as}: copy the file into "
        "the page (or the page into the file)"
    )


def rust_is_doctested(example: Example, block: Block) -> None:
    relative = Path(example.path).resolve().relative_to(REPO).as_posix()
    lib = (REPO / "core" / "src" / "lib.rs").read_text()
    if f'include_str!("../../{relative}")' not in lib:
        raise AssertionError(
            f"{relative}:{block.line}: a rust block runs as a doctest: list {relative} in the "
            "docs doctests of core/src/lib.rs (see docs/writing-docs.md)"
        )


class BlockParser:
    """Sybil parser: one region per fenced block, evaluated by its language."""

    def __init__(self) -> None:
        self.doctest = DocTestStringParser(DocTestEvaluator())
        self.python = PythonEvaluator()

    def __call__(self, document: Document) -> Iterable[Region]:
        yield Region(0, 0, None, check_links)
        blocks = list(fenced_blocks(document))
        for index, (start, end, content_start, block) in enumerate(blocks):
            if block.language == "output":
                continue  # read with the shell block before it
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if following and following[3].language == "output":
                if block.language not in SHELL_LANGUAGES or block.background or block.not_run:
                    raise ValueError(
                        f"{document.path}:{following[3].line}: an output block must follow the "
                        "sh block whose output it shows"
                    )
                if document.text[end : following[0]].strip():
                    raise ValueError(
                        f"{document.path}:{following[3].line}: an output block must follow its "
                        "sh block directly (only blank lines between)"
                    )
                block.output = following[3].source.rstrip("\n").split("\n")
                end = following[1]
            if block.not_run is not None:
                NOT_RUN.append((os.path.relpath(document.path, REPO), block.line, block.not_run))
                continue
            plain = block.file is None and block.tested_by is None and block.same_as is None
            if block.language == "python" and plain:
                source = Lexeme(block.source, offset=0, line_offset=0)
                if block.source.startswith(">>>"):
                    for region in self.doctest(source, document.path):
                        region.start += content_start
                        region.end += content_start
                        yield region
                else:
                    yield Region(start, end, source, self.python)
                continue
            yield Region(start, end, block, self.evaluate)

    def evaluate(self, example: Example) -> None:
        __tracebackhide__ = True
        block: Block = example.parsed
        make_needs(block)
        if block.tested_by is not None:
            check_tested_by(example, block)
        elif block.same_as is not None:
            check_same_as(example, block)
        elif block.file is not None:
            write_file(example, block)
        elif block.language == "console":
            run_console(example, block)
        elif block.language in SHELL_LANGUAGES:
            run_shell(example, block)
        elif block.language == "rust":
            rust_is_doctested(example, block)
        elif not block.language:
            raise AssertionError(f"{example.path}:{block.line}: a fenced block needs a language (```sh, ```console, ...)")
        else:
            raise AssertionError(
                f"{example.path}:{block.line}: a ```{block.language} block cannot be run: give it "
                "`<!-- docs-test: file=PATH -->` for a later command to use, or, if it truly cannot "
                "run, `<!-- docs-test: not-run REASON -->` (see docs/writing-docs.md)"
            )


def teardown(namespace: Dict[str, Any]) -> None:
    session = namespace.pop("_docs_session", None)
    if session is not None:
        session.close()


_sybil = Sybil(parsers=[BlockParser()], patterns=PATTERNS, path=str(REPO), teardown=teardown)
pytest_collect_file = _sybil.pytest()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NOT_RUN:
        terminalreporter.section(f"blocks not run ({len(NOT_RUN)})")
        for path, line, reason in sorted(set(NOT_RUN)):
            terminalreporter.write_line(f"{path}:{line}: {reason}")
