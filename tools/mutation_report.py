"""Share of mutants killed per module, from `mutmut results --all true` (run by `make mutation`)."""

import re
import subprocess
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+?)__mutmut_\d+: (?P<status>.+)$")


def module_of(name: str) -> str:
    parts = name.split(".")
    while parts and (parts[-1].startswith("x_") or parts[-1].startswith("xǁ")):
        parts.pop()
    return ".".join(parts)


def main() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per_module: dict[str, Counter] = defaultdict(Counter)
    survivors: list[str] = []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        status = m["status"].strip()
        per_module[module_of(m["name"])][status] += 1
        if status not in ("killed",):
            survivors.append(line.strip())
    if not per_module:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    print(f"{'module':48} {'mutants':>8} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}")
    total = Counter()
    for module in sorted(per_module):
        c = per_module[module]
        n = sum(c.values())
        other = n - c["killed"] - c["survived"]
        total.update(c)
        print(f"{module:48} {n:8} {c['killed']:7} {c['survived']:9} {other:6} {c['killed'] / n:7.1%}")
    n = sum(total.values())
    print(
        f"{'all':48} {n:8} {total['killed']:7} {total['survived']:9} {n - total['killed'] - total['survived']:6}"
        f" {total['killed'] / n:7.1%}"
    )
    if survivors:
        print("\nnot killed (`.venv/bin/mutmut show NAME` shows the change):")
        print("\n".join(survivors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
