"""Result passages: the sentence of a matching document that holds most of what the query shares
with it. Pure functions over the stored (normalised) text."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from .._common import SENTENCE_RE

__all__ = ["PASSAGE_CHARS", "best_passage"]

PASSAGE_CHARS = 120


def best_passage(text: str, shared: Sequence[tuple[str, float]], width: int = PASSAGE_CHARS) -> str | None:
    """The sentence of ``text`` holding the most weight of the ``shared`` (term, weight) pairs (each
    term counted once per sentence; the first such sentence on a tie), cut to about ``width``
    characters around its strongest shared term. Terms are found with ``str.find`` in the whole
    text and placed in their sentence, so the text is scanned once per term, not once per sentence."""
    spans = [m.span() for m in SENTENCE_RE.finditer(text)]
    ends = [e for _, e in spans]
    totals = [0.0] * len(spans)
    for term, weight in shared:
        if not term:
            continue
        at = text.find(term)
        while at >= 0:
            i = bisect_right(ends, at)  # the sentence the occurrence starts in
            if i == len(spans):
                break
            if spans[i][0] <= at and at + len(term) <= ends[i]:
                totals[i] += weight
                at = text.find(term, ends[i])  # once per sentence: go on from the next one
            else:
                at = text.find(term, at + 1)
    best, best_score = None, 0.0
    for (start, end), score in zip(spans, totals):
        if score > best_score:
            best, best_score = text[start:end].strip(), score
    if best is None or len(best) <= width:
        return best
    at = next((best.find(t) for t, _ in shared if t in best), 0)
    start = max(0, min(at - width // 3, len(best) - width))
    cut = best[start : start + width]
    return ("…" if start > 0 else "") + cut + ("…" if start + width < len(best) else "")
