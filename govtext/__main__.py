"""`python -m govtext` runs the command line, as the `govtext` console script does."""

import sys

from .apps.cli import main

sys.exit(main())
