"""`govtext.plot`, the import path README documents, is `govtext.apps.plot`: the same module object."""

import sys

from ..apps import plot as _module

sys.modules[__name__] = _module
