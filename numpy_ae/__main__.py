"""``python -m numpy_ae``: see :mod:`numpy_ae.cli`."""
import sys

from .cli import main

sys.exit(main())
