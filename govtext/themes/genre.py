"""Which kind of text an item is: national broadcast news, local news, or a headline.

The theme model calibrates its probabilities and sets its thresholds per genre (the same words
mean different things in a 30-character title and in a national evening-news item), and theme
shares are best corrected per genre. The genre is read from the text's form alone, so it needs no
model:

* ``2`` headline: one line of at most 60 characters (local headlines in govtext's labels run 8–40);
* ``0`` national broadcast: the first 300 characters name a national broadcaster's byline
  (新闻联播, 本台消息, 央视网消息, 中国网络电视台消息, 总台 …);
* ``1`` local news: everything else.

On govtext's labelled data (../shared/labels) these rules put 99.5% of items in their source's
genre (the misses are a few one-line local excerpts and local items quoting 央视). A caller who
knows the genre passes it instead (``genre=`` of :meth:`~govtext.ThemeClassifier.predict_proba`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._common import check_text_list
from ..errors import InputError

__all__ = ["GENRES", "check_genre", "infer_genre"]

GENRES = ("national_broadcast", "local_news", "headline")
NATIONAL, LOCAL, HEADLINE = 0, 1, 2
HEADLINE_MAX_CHARS = 60
_BROADCAST = re.compile(r"新闻联播|本台消息|本台记者|央视网消息|央视新闻|中国网络电视台消息|总台记者|总台消息|CCTV")


def _one(text: Any) -> int:
    if not isinstance(text, str):
        return LOCAL
    body = text.strip()
    if body and "\n" not in body and len(body) <= HEADLINE_MAX_CHARS:
        return HEADLINE
    if _BROADCAST.search(body[:300]):
        return NATIONAL
    return LOCAL


def infer_genre(texts: Iterable[str]) -> np.ndarray:
    """Genre codes (``int8``: 0 national broadcast, 1 local news, 2 headline) of ``texts``, read
    from their form; names in :data:`GENRES`.

    >>> infer_genre(["某街道传达学习区委全会精神", "中国网络电视台消息(新闻联播)：今天……\\n正文", "我县召开会议\\n正文"]).tolist()
    [2, 0, 1]
    """
    docs = check_text_list(texts, "texts")
    return np.fromiter(map(_one, docs), dtype=np.int8, count=len(docs))


def check_genre(genre: Any, n: int) -> np.ndarray:
    """A caller's genres as int8 codes: one per text (codes 0–2 or names from :data:`GENRES`),
    or a single code or name for every text."""
    if isinstance(genre, (str, int, np.integer)):
        genre = [genre] * n
    values = list(genre)
    if len(values) != n:
        raise InputError(f"genre must give one genre per text ({n}), got {len(values)}")
    out = np.empty(n, dtype=np.int8)
    for i, g in enumerate(values):
        if isinstance(g, str) and g in GENRES:
            out[i] = GENRES.index(g)
        elif isinstance(g, (int, np.integer)) and not isinstance(g, bool) and 0 <= int(g) < len(GENRES):
            out[i] = int(g)
        else:
            raise InputError(f"genre[{i}] must be 0, 1, 2 or one of {list(GENRES)}, got {g!r}")
    return out
