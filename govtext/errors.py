"""govtext's error family: catch :class:`GovtextError` for every error govtext raises on purpose.

Each class also derives from the built-in exception it used to be (``ValueError``, and ``TypeError``
for a parameter of the wrong type), so existing ``except ValueError`` code keeps working.

- :class:`InputError` — a record, file or value govtext cannot use (``DecodingError``,
  ``EmptyTextError``, ``TextTooLongError`` and ``IncompatibleModelError`` derive from it).
- :class:`ParameterError` — a parameter outside what the function or estimator accepts.
- :class:`NotFittedError` — an estimator or index used before ``fit``; it is also scikit-learn's
  ``NotFittedError``, so either ``except`` catches it (importing it imports scikit-learn).

>>> import govtext
>>> try:
...     govtext.usable_text("   ")
... except govtext.GovtextError as exc:
...     print(type(exc).__name__, "-", exc)
EmptyTextError - the text is only white space
"""

from __future__ import annotations

from typing import Any

__all__ = ["GovtextError", "InputError", "NotFittedError", "ParameterError"]  # noqa: F822 (NotFittedError: module __getattr__)


class GovtextError(Exception):
    """Base of the errors govtext raises on purpose (bad input, damaged saved objects, …)."""


class InputError(GovtextError, ValueError):
    """A record, file or value that govtext cannot use; the message says what was expected."""


class ParameterError(GovtextError, ValueError, TypeError):
    """A parameter govtext cannot accept; the message names it, what was expected and what came in."""


def __getattr__(name: str) -> Any:
    # NotFittedError derives from scikit-learn's, which costs a scikit-learn import: done on first use.
    if name == "NotFittedError":
        from ._fitted import NotFittedError

        return NotFittedError
    raise AttributeError(f"module 'govtext.errors' has no attribute {name!r}")
