"""`govtext.dask`, the import path README documents, is `govtext.runs.dask`: the same module object."""

import sys

from ..runs import dask as _module

sys.modules[__name__] = _module
