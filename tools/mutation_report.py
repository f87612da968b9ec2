"""Share of mutants killed per module, from `mutmut results --all true` (run by `make mutation`).

With `--verify`, every mutant mutmut reports as not killed is run again on its own: a fresh pytest process
over the tests mutmut associates with it, the mutant switched on by MUTANT_UNDER_TEST, with a test database
of its own. mutmut's forked children share one SQLite test database and its fork server keeps state between
mutants; in one run a mutant reported as surviving failed its tests when run alone (measures `_leaf`, a
flag's NOT dropped). A survivor counts only when it survives on its own; the report says how many did not.
"""

import argparse
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+?__mutmut_\d+): (?P<status>.+)$")
ROOT = Path(__file__).resolve().parent.parent


def module_of(name: str) -> str:
    parts = name.split("__mutmut_")[0].split(".")
    while parts and (parts[-1].startswith("x_") or parts[-1].startswith("xǁ")):
        parts.pop()
    return ".".join(parts)


def mutmut(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout


def run_alone(name: str, slot: int) -> str:
    """killed | survived | no tests: the mutant's tests run directly, in a process of their own."""
    tests = [t for t in mutmut("tests-for-mutant", name).splitlines() if t.startswith("tests/")]
    if not tests:
        return "no tests"
    env = {
        **os.environ,
        "MUTANT_UNDER_TEST": name,
        "HAOCHA_TEST_DATABASE": str(ROOT / "var" / f"test-mutation-verify-{slot}.sqlite3"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--reuse-db", *tests],
        cwd=ROOT / "mutants",
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode == 0:
        return "survived"
    if done.returncode == 1 and "database is locked" not in done.stdout:
        return "killed"
    return f"error {done.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verify", action="store_true", help="run each reported survivor again on its own")
    parser.add_argument("--jobs", type=int, default=2)
    opts = parser.parse_args()
    status = {}
    for line in mutmut("results", "--all", "true").splitlines():
        m = LINE.match(line)
        if m:
            status[m["name"]] = m["status"].strip()
    if not status:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    corrected = 0
    if opts.verify:
        again = [n for n, s in status.items() if s in ("survived", "no tests")]
        with ThreadPoolExecutor(opts.jobs) as pool:
            verdicts = list(pool.map(run_alone, again, [i % opts.jobs for i in range(len(again))]))
        for name, verdict in zip(again, verdicts, strict=True):
            corrected += verdict == "killed" and status[name] != "killed"
            status[name] = verdict
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, s in status.items():
        per_module[module_of(name)][s] += 1
    print(f"{'module':48} {'mutants':>8} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}")
    total = Counter()
    for module in sorted(per_module):
        c = per_module[module]
        n = sum(c.values())
        total.update(c)
        other = n - c["killed"] - c["survived"]
        print(f"{module:48} {n:8} {c['killed']:7} {c['survived']:9} {other:6} {c['killed'] / n:7.1%}")
    n = sum(total.values())
    other = n - total["killed"] - total["survived"]
    print(f"{'all':48} {n:8} {total['killed']:7} {total['survived']:9} {other:6} {total['killed'] / n:7.1%}")
    if opts.verify:
        print(f"\n{corrected} reported survivors were killed when run on their own")
    left = sorted(f"{name}: {s}" for name, s in status.items() if s != "killed")
    if left:
        print("\nnot killed (`.venv/bin/mutmut show NAME` shows the change):")
        print("\n".join(left))
    return 0


if __name__ == "__main__":
    sys.exit(main())
