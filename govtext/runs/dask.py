"""Classification on a Dask cluster (optional: ``pip install govtext[dask]``).

The row maker, with the model inside it, is sent to each worker once and reused for every
partition or chunk the worker handles. The bundled model is not sent at all: each worker process
loads it once from its own installed govtext, so the task graph stays small.

>>> import dask.bag as db, govtext.dask                       # doctest: +SKIP
>>> rows = govtext.dask.classify_bag(db.read_text("s3://news/*.jsonl").map(json.loads))  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .._common import renamed
from .batch import ClassifyRows, classify_frame, theme_model
from ..text.io import Record, record_from_fields

__all__ = ["classify_bag", "classify_dataframe", "session"]


def _need_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError("Dask support needs dask and distributed: pip install govtext[dask]") from None


@contextmanager
def session(address: str, *, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (``tcp://host:8786``), or for a new LocalCluster with
    ``n_workers`` single-threaded worker processes when ``address`` is ``"local"``; closed on exit."""
    _need_dask()
    from distributed import Client, LocalCluster

    if address != "local":
        with Client(address, timeout="30s") as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def _apply(job: Any, items: list[Any]) -> Any:
    return job(items)


def submit_with_client(client: Any, job: Any) -> Any:
    """``submit(chunk) -> future`` that runs ``job`` on the cluster; the job (and its model) is sent to each
    worker once."""
    shared = client.scatter(job, broadcast=True, hash=False)
    return lambda chunk: client.submit(_apply, shared, chunk, pure=False)


def _maker(model: Any, clean: bool, explain: bool = False, digits: int | None = 4) -> ClassifyRows:
    return ClassifyRows(theme_model(model), clean=clean, explain=explain, digits=digits)


@functools.lru_cache(maxsize=8)
def _bundled_maker(clean: bool, explain: bool, digits: int | None) -> ClassifyRows:
    return _maker(None, clean, explain, digits)


@dataclass(frozen=True)
class _BundledOnWorker:
    """Stands in the graph for a row maker of the bundled model: a few bytes, resolved by each worker
    process to one maker it loads once (the bundled model ships with every govtext install)."""

    clean: bool
    explain: bool = False
    digits: int | None = 4


def _resolve(maker: ClassifyRows | _BundledOnWorker) -> ClassifyRows:
    if isinstance(maker, _BundledOnWorker):
        return _bundled_maker(maker.clean, maker.explain, maker.digits)
    return maker


def _bag_partition(items: Sequence[Any], maker: ClassifyRows | _BundledOnWorker, text_key: str,
                   id_key: str) -> list[dict[str, Any]]:
    maker = _resolve(maker)
    records = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            records.append(Record("", item))
        elif isinstance(item, dict):
            records.append(record_from_fields(item, f"item {item.get(id_key, i)!r}", "", text_key, id_key))
        else:
            records.append(Record("", None, error=f"item is a {type(item).__name__}, not a dict or str"))
    rows = maker(records)
    for row in rows:
        if row.get("id") == "":
            del row["id"]
    return rows


def classify_bag(bag: Any, model: Any = None, *, text_field: str = "text", id_field: str = "id", clean: bool = True,
                 explain: bool = False, **deprecated: Any) -> Any:
    """A bag of result rows (dicts, as ``govtext classify`` writes them), one per item of ``bag``.

    Items are dicts with the text under ``text_field`` (and an id under ``id_field``) or plain
    strings. ``model`` is a ThemeClassifier or a saved model folder (default: the bundled model).
    (``text_key=`` and ``id_key=`` are deprecated spellings.)
    """
    if deprecated:
        given = renamed("classify_bag", deprecated, {"text_key": "text_field", "id_key": "id_field"},
                        {"text_field": text_field, "id_field": id_field})
        text_field, id_field = given["text_field"], given["id_field"]
    text_key, id_key = text_field, id_field
    _need_dask()
    import dask

    if model is None:
        return bag.map_partitions(_bag_partition, _BundledOnWorker(clean, explain), text_key, id_key)
    maker = dask.delayed(_maker(model, clean, explain), pure=True)
    return bag.map_partitions(_bag_partition, maker, text_key, id_key)


def _frame_partition(part: Any, maker: ClassifyRows | _BundledOnWorker, text_col: str) -> Any:
    maker = _resolve(maker)
    return classify_frame(part, text_col, maker.model, clean=maker.clean, progress=False)


def classify_dataframe(ddf: Any, text_field: str = "text", model: Any = None, *, clean: bool = True,
                       **deprecated: Any) -> Any:
    """``ddf`` with ``p_<label>``, ``labels`` and ``error`` columns added, partition by partition
    (``text_field`` names the text column; ``text_col=`` is a deprecated spelling)."""
    if deprecated:
        text_field = renamed("classify_dataframe", deprecated, {"text_col": "text_field"},
                             {"text_field": text_field})["text_field"]
    text_col = text_field
    _need_dask()
    import dask

    maker = _bundled_maker(clean, False, None) if model is None else _maker(model, clean, digits=None)
    meta = classify_frame(ddf._meta, text_col, maker.model, clean=clean, progress=False)
    shipped = _BundledOnWorker(clean, digits=None) if model is None else dask.delayed(maker, pure=True)
    return ddf.map_partitions(_frame_partition, shipped, text_col, meta=meta)
