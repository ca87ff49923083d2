"""Runs a package README's quickstart as written and checks what it prints.

The first code block after the heading ``## Quickstart`` is written to a file and run with the
given command (the file's path is appended); its output must equal the comment at the end of the
block's last line (``# team True False`` or ``// team true false``).

    python3 run_quickstart.py README.md -- python        (from an environment with the package)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    readme, sep, *command = sys.argv[1:]
    if sep != "--" or not command:
        print(__doc__, file=sys.stderr)
        return 2
    text = Path(readme).read_text()
    at = text.find("## Quickstart")
    match = re.search(r"```(\w+)\n(.*?)\n```", text[at:], re.S) if at >= 0 else None
    if match is None:
        print(f"{readme}: no code block after '## Quickstart'", file=sys.stderr)
        return 1
    language, code = match.groups()
    last = code.rstrip().splitlines()[-1]
    expected = re.search(r"(?:#|//)\s*(.+)$", last)
    if expected is None:
        print(f"{readme}: the quickstart's last line has no comment saying what it prints", file=sys.stderr)
        return 1
    suffix = {"python": ".py", "js": ".cjs"}.get(language, f".{language}")
    with tempfile.NamedTemporaryFile("w", suffix=suffix, dir=".", delete=False) as f:
        f.write(code + "\n")
    try:
        out = subprocess.run([*command, f.name], capture_output=True, text=True, check=False)
    finally:
        Path(f.name).unlink()
    if out.returncode != 0 or out.stdout.strip() != expected.group(1).strip():
        print(f"{readme}: the quickstart printed {out.stdout.strip()!r} (exit {out.returncode}), "
              f"its comment says {expected.group(1).strip()!r}\n{out.stderr}", file=sys.stderr)
        return 1
    print(f"{readme}: quickstart ran as written: {out.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
