"""``python -m omnisend_sdk``: the command line (see :mod:`omnisend_sdk.cli`)."""

import sys

from omnisend_sdk.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m omnisend_sdk"))
