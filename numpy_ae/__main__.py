"""``python -m numpy_ae``: see :mod:`numpy_ae.cli`."""
import sys

from .cli import PROG_MODULE, main

sys.exit(main(prog=PROG_MODULE))
