"""The ``backend`` setting shared by the compiled kernels (search scoring, theme prediction):
``"auto"`` (numba when it imports), ``"numba"`` (an error without it) or ``"numpy"`` (no compiler).
Both kernels give their NumPy/SciPy path's results to the last bit, so the setting changes speed only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ParameterError

__all__ = ["BACKENDS", "HINT", "check_backend", "resolve_backend"]

BACKENDS = ("auto", "numba", "numpy")
HINT = "pip install govtext[fast]"


def check_backend(owner: str, value: Any) -> None:
    if not isinstance(value, str) or value not in BACKENDS:
        raise ParameterError(f"{owner}: backend must be one of {list(BACKENDS)}, got {value!r}")


def resolve_backend(backend: str, load: Callable[[], Any]) -> str:
    """``"numba"`` or ``"numpy"``: ``"auto"`` is numba when ``load()`` (which imports numba and builds
    the kernels) succeeds, NumPy otherwise; ``"numba"`` when it raises ImportError is a
    :class:`~govtext.errors.ParameterError` saying how to install numba."""
    if backend == "numpy":
        return "numpy"
    try:
        load()
    except ImportError as exc:
        if backend == "numba":
            raise ParameterError(f"backend='numba' needs numba, which does not import here ({exc}): {HINT}, "
                                 f"or use backend='numpy' (the same results, slower)") from None
        return "numpy"
    return "numba"
