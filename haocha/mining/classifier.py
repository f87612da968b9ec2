"""Giving a 差评 comment its themes (main first) and a confidence, the way a person reads it.

Rules first (taxonomy.THEMES: phrases and patterns with negatives), judged on the citizen's original words
— never on the anonymised text; the reasons the citizen ticked add evidence. What no rule and no reason
catches goes to the sentence-embedding fallback (haocha.mining.embedding), which compares it with each
theme's definition and examples. One function, `classify_many`, serves the mining tables, the
`haocha mining classify` command, the handling-quality check and the corpus test.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from haocha.mining.taxonomy import THEMES, Theme

THRESHOLD = 1.5  # a theme needs this much evidence
REASON_WEIGHT = 1.0
SUGGEST_MAIN = "suggest"  # a comment that opens with 建议/希望… is a suggestion first
UNLESS_WINDOW = 8
_NO_POSITION = 10**6  # evidence from the reasons alone


@dataclass(frozen=True)
class Result:
    themes: tuple[str, ...]  # theme codes, main first
    confidence: float
    source: str  # "rules", "reasons", "embedding" or "" (no theme)

    @property
    def main(self) -> str:
        return self.themes[0] if self.themes else ""


@lru_cache(maxsize=64)
def _compiled(themes: tuple[Theme, ...]):
    out = []
    for theme in themes:
        rules = [(*r.compiled(), r.weight) for r in theme.rules]
        out.append((theme, rules, frozenset(theme.reasons)))
    return tuple(out)


def rule_scores(text: str, reasons: Sequence[str] = (), themes: tuple[Theme, ...] = THEMES) -> dict:
    """{code: (score, first position in the text, reasons ticked for it)} of every theme with some evidence."""
    text = (text or "").strip()
    ticked = {r.strip() for r in reasons if r and r.strip()}
    scores: dict[str, tuple[float, int, int]] = {}
    for theme, rules, reason_texts in _compiled(themes):
        score, first = 0.0, _NO_POSITION
        for pattern, unless, weight in rules:
            for m in pattern.finditer(text):
                if unless is not None:
                    window = text[max(0, m.start() - UNLESS_WINDOW) : m.end() + UNLESS_WINDOW]
                    if unless.search(window):
                        continue
                score += weight
                first = min(first, m.start())
                break  # one hit per rule: repeating a word is no more evidence
        hits = len(ticked & reason_texts)
        if hits:
            score += REASON_WEIGHT * hits
        if score:
            scores[theme.code] = (score, first, hits)
    return scores


def _confidence(best: float, second: float) -> float:
    strength = min(1.0, best / 4.0) * 0.5 + 0.45
    margin = best / (best + second) if second else 1.0
    return round(min(0.99, strength * (0.6 + 0.4 * margin)), 2)


def classify_rules(text: str, reasons: Sequence[str] = (), themes: tuple[Theme, ...] = THEMES) -> Result:
    evidence = rule_scores(text, reasons, themes)
    scores = {c: s for c, s in evidence.items() if s[0] >= THRESHOLD}
    if not scores:
        # nothing in the words: the reasons the citizen ticked say what the 差评 is about
        scores = {c: s for c, s in evidence.items() if s[2]}
    if not scores:
        return Result((), 0.0, "")
    order = sorted(scores, key=lambda c: (-scores[c][0], scores[c][1]))
    if SUGGEST_MAIN in scores and scores[SUGGEST_MAIN][1] == 0:
        order.remove(SUGGEST_MAIN)
        order.insert(0, SUGGEST_MAIN)
    best = scores[order[0]][0]
    second = scores[order[1]][0] if len(order) > 1 else 0.0
    from_text = any(scores[c][1] < _NO_POSITION for c in order)
    return Result(tuple(order), _confidence(best, second), "rules" if from_text else "reasons")


def classify_many(
    items: Iterable[tuple[str, Sequence[str]]],
    *,
    themes: tuple[Theme, ...] = THEMES,
    fallback: bool = True,
) -> list[Result]:
    """Themes of many (text, reasons) at once; the embedding fallback runs once over all rule-less texts."""
    items = list(items)
    results = [classify_rules(text, reasons, themes) for text, reasons in items]
    if fallback:
        from haocha.mining import embedding

        pending = [i for i, r in enumerate(results) if not r.themes and (items[i][0] or "").strip()]
        if pending and embedding.available():
            for i, (code, similarity) in zip(
                pending, embedding.nearest_themes([items[i][0] for i in pending], themes), strict=True
            ):
                if code:
                    results[i] = Result((code,), round(min(0.6, similarity), 2), "embedding")
    return results


def classify(text: str, reasons: Sequence[str] = (), **kwargs) -> Result:
    return classify_many([(text, reasons)], **kwargs)[0]
