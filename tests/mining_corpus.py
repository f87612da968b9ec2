"""The labelled 差评 corpus (tests/data/mining_corpus_*.tsv) and the figures the classifier is judged by.

Coverage: the share of comments that get any theme. Main-theme agreement: the classifier's main theme equals
the labelled main theme. Precision of a theme: of the comments the classifier gives that theme (main or
not), the share whose labels include it — every tag a supervisor sees on the page is judged.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from haocha.mining.classifier import classify_many
from haocha.mining.taxonomy import THEME_BY_CODE, THEME_NAMES

DATA = Path(__file__).resolve().parent / "data"
PARTS = ("tune", "holdout")


@dataclass(frozen=True)
class Labelled:
    themes: tuple[str, ...]
    channel: str
    reasons: tuple[str, ...]
    text: str


def load(part: str) -> list[Labelled]:
    rows = []
    for line in (DATA / f"mining_corpus_{part}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        themes, channel, reasons, text = line.split("\t")
        codes = tuple(themes.split(";"))
        assert all(c in THEME_BY_CODE for c in codes), line
        rows.append(Labelled(codes, channel, () if reasons == "-" else tuple(reasons.split("；")), text))
    return rows


def evaluate(rows: list[Labelled], *, fallback: bool = True) -> dict:
    results = classify_many([(r.text, r.reasons) for r in rows], fallback=fallback)
    covered = sum(1 for res in results if res.themes)
    agree = sum(1 for r, res in zip(rows, results, strict=True) if res.main == r.themes[0])
    tagged, right = Counter(), Counter()
    confusion = Counter()
    misses = []
    for r, res in zip(rows, results, strict=True):
        for code in res.themes:
            tagged[code] += 1
            right[code] += code in r.themes
        confusion[(r.themes[0], res.main or "-")] += 1
        if res.main != r.themes[0]:
            misses.append((r.themes, res.themes, res.source, r.text))
    precision = {c: right[c] / tagged[c] for c in tagged}
    return {
        "n": len(rows),
        "coverage": covered / len(rows),
        "agreement": agree / len(rows),
        "precision": precision,
        "tagged": dict(tagged),
        "confusion": confusion,
        "misses": misses,
        "sources": Counter(res.source or "-" for res in results),
    }


def report(part: str, figures: dict) -> str:
    lines = [
        f"== {part}: {figures['n']} comments · coverage {figures['coverage']:.1%} · "
        f"main-theme agreement {figures['agreement']:.1%} · by {dict(figures['sources'])}",
        "precision per theme (tagged comments):",
    ]
    for code, p in sorted(figures["precision"].items(), key=lambda kv: kv[1]):
        lines.append(f"  {THEME_NAMES[code]:<16} {p:6.1%}  ({figures['tagged'][code]})")
    codes = [c for c in THEME_NAMES if any(k[0] == c or k[1] == c for k in figures["confusion"])] + ["-"]
    lines.append("confusion (rows: labelled main theme, columns: classifier's main theme; - none):")
    lines.append("          " + " ".join(f"{c[:5]:>5}" for c in codes))
    for a in codes[:-1]:
        cells = " ".join(f"{figures['confusion'].get((a, b), 0) or '.':>5}" for b in codes)
        lines.append(f"  {a[:8]:<8}{cells}")
    return "\n".join(lines)
