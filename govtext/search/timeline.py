"""An initiative's timeline: which places report a practice, since when, how often.

:meth:`SimilarityIndex.timeline <govtext.SimilarityIndex.timeline>` finds the documents whose text
names a practice whole (``"楼道微自治"``, not 楼道 and 自治 apart) and lists the places they name
with the first and latest dates and the number of documents, earliest first: where a practice began
and how it spread, the question policy-diffusion studies ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from .ranking import place_level

__all__ = ["PlaceSpan", "Timeline", "build_timeline"]

NO_PLACE = "(no place named)"
NO_LOCAL_PLACE = "(no county-level or lower place named)"


@dataclass(frozen=True)
class PlaceSpan:
    """One place that reports the practice."""

    place: str  # as named in the documents (NO_PLACE / NO_LOCAL_PLACE for documents naming none)
    level: int  # 3 village/community/street/town, 2 county/district, 1 city, 0 other
    first: str | None  # earliest date (YYYY-MM-DD) among its documents; None when none is dated
    latest: str | None
    count: int  # documents naming both the practice and this place
    ids: tuple[str, ...]  # those documents, earliest first (undated last)


@dataclass(frozen=True)
class Timeline:
    """The places that report ``name``, earliest first (undated places last)."""

    name: str
    documents: int  # documents naming the practice
    undated: int  # of which without a date
    places: tuple[PlaceSpan, ...]

    @property
    def first(self) -> str | None:
        """The earliest date the practice is reported anywhere."""
        dates = [p.first for p in self.places if p.first]
        return min(dates) if dates else None

    def __str__(self) -> str:
        head = f"{self.name}: {self.documents} documents, first {self.first or 'undated'}"
        rows = [f"  {p.place:<14} {p.first or '?':>10} … {p.latest or '?':<10} {p.count:>4}" for p in self.places]
        return "\n".join([head, *rows])


def build_timeline(name: str, hits: Iterable[tuple[str, dict[str, Any]]], *, local_only: bool = False) -> Timeline:
    """A :class:`Timeline` from ``(id, metadata)`` pairs of the documents that name ``name``
    (metadata with ``date`` as YYYY-MM-DD and ``places``). ``local_only`` keeps the places below
    province and city level (county, district, street, town, community, village)."""
    spans: dict[str, list[tuple[str | None, str]]] = {}
    n = undated = 0
    for doc_id, meta in hits:
        n += 1
        date = meta.get("date") if isinstance(meta.get("date"), str) and meta.get("date") else None
        undated += date is None
        places = [p for p in meta.get("places") or [] if isinstance(p, str)]
        if local_only:
            places = [p for p in places if place_level([p])[0] >= 2]
        for place in places or [NO_LOCAL_PLACE if local_only else NO_PLACE]:
            spans.setdefault(place, []).append((date, doc_id))
    rows = []
    for place, found in spans.items():
        found.sort(key=lambda t: (t[0] is None, t[0] or "", t[1]))
        dates = [d for d, _ in found if d]
        rows.append(PlaceSpan(place=place, level=place_level([place])[0] if place not in (NO_PLACE, NO_LOCAL_PLACE) else 0,
                              first=dates[0] if dates else None, latest=dates[-1] if dates else None,
                              count=len(found), ids=tuple(i for _, i in found)))
    rows.sort(key=lambda p: (p.first is None, p.first or "", -p.count, p.place))
    return Timeline(name=name, documents=n, undated=undated, places=tuple(rows))


def matching_rows(name: str, candidate_rows: Sequence[int], text_of: Callable[[int], str | None]) -> list[int]:
    """The rows among ``candidate_rows`` whose text holds ``name`` whole."""
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"timeline() expects the name of a practice, such as '楼道微自治', got {name!r}")
    out = []
    for row in candidate_rows:
        text = text_of(row)
        if text is not None and name in text:
            out.append(row)
    return out
