"""The not-fitted error and check shared by govtext's scikit-learn estimators and the index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from .errors import GovtextError

__all__ = ["NotFittedError", "check_fitted"]


class NotFittedError(GovtextError, _SklearnNotFittedError):
    """An estimator or index was used before ``fit`` (also scikit-learn's ``NotFittedError``)."""


NotFittedError.__module__ = "govtext.errors"


def check_fitted(obj: Any, attributes: Sequence[str], *, how: str = "fit(...)") -> None:
    """Raise :class:`NotFittedError` unless ``obj`` has every one of the fitted ``attributes``."""
    if not all(hasattr(obj, a) for a in attributes):
        name = type(obj).__name__
        raise NotFittedError(f"this {name} is not fitted yet; call {how} first, or load a saved one "
                             f"with {name}.load(path)")
