"""Checks the portable builds in dist/ against the platforms their names promise.

* Each wheel: ``auditwheel show`` must find it consistent with the platform tag in its file name
  (manylinux_2_17 = manylinux2014, or musllinux_1_2) for its architecture.
* Each Node addon (dist/node/build/<target>/*.node): a glibc build may need no glibc symbol newer
  than 2.17; a musl build must link musl's C library and no glibc.

    python3 check_dist.py DIST_DIR      (auditwheel and readelf on PATH)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def glibc_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def main() -> int:
    dist = Path(sys.argv[1])
    problems = []
    wheels = sorted((dist / "python").glob("*.whl"))
    for wheel in wheels:
        report = " ".join(run("auditwheel", "show", str(wheel)).split())
        found = re.search(r'consistent with the following platform tag: "([^"]+)"', report)
        claimed = [t for t in wheel.stem.split("-")[-1].split(".") if "_2_17_" in t or "musllinux_1_2" in t]
        status = found.group(1) if found else "no platform tag"
        ok = found is not None and found.group(1) in claimed
        print(f"{wheel.name}: auditwheel: {status} ({wheel.stat().st_size} bytes)")
        if not ok:
            problems.append(f"{wheel.name}: auditwheel says {status}, the name says {claimed}")
    addons = sorted((dist / "node" / "build").glob("*/*.node"))
    for addon in addons:
        target = addon.parent.name
        needed = re.findall(r"Shared library: \[([^\]]+)\]", run("readelf", "-d", str(addon)))
        versions = sorted(set(re.findall(r"GLIBC_([0-9.]+)", run("readelf", "-V", str(addon)))), key=glibc_key)
        newest = versions[-1] if versions else "none"
        print(f"{target}/{addon.name}: needs {', '.join(needed)}; newest glibc symbol {newest} ({addon.stat().st_size} bytes)")
        if target.endswith("-gnu") and versions and glibc_key(newest) > (2, 17):
            problems.append(f"{addon}: needs glibc {newest} > 2.17")
        if target.endswith("-musl") and (versions or not any("musl" in n for n in needed)):
            problems.append(f"{addon}: a musl build that is not linked against musl alone ({needed})")
    if not wheels and not addons:
        problems.append(f"nothing to check in {dist}")
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
