"""govtext's error family: catch :class:`GovtextError` for every error govtext raises on purpose.

Each class also derives from the built-in exception it used to be (``ValueError``), so existing
``except ValueError`` code keeps working.

>>> import govtext
>>> try:
...     govtext.usable_text("   ")
... except govtext.GovtextError as exc:
...     print(type(exc).__name__, "-", exc)
EmptyTextError - the text is only white space
"""

from __future__ import annotations

__all__ = ["GovtextError", "InputError"]


class GovtextError(Exception):
    """Base of the errors govtext raises on purpose (bad input, damaged saved objects, …)."""


class InputError(GovtextError, ValueError):
    """A record, file or value that govtext cannot use; the message says what was expected."""
