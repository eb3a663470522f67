"""The ``ums-sandbox`` console script of the wheel: runs the simulator that
the wheel carries (``chinaums/bin/ums-sandbox``), with the same arguments.

The process becomes the simulator (``os.execv``): signals, exit status and
output are its own.
"""

import os
import sys
from typing import List, Optional


def binary() -> str:
    """Where the wheel put the simulator (absent in a source install)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "ums-sandbox")


def main(argv: Optional[List[str]] = None) -> None:
    path = binary()
    if not os.access(path, os.X_OK):
        sys.exit("ums-sandbox: %s is missing: this chinaums installation does not carry the "
                 "simulator (install the wheel built by `make python-wheel`, or run "
                 "target/release/ums-sandbox of a checkout)" % path)
    args = sys.argv[1:] if argv is None else argv
    os.execv(path, [path] + args)


if __name__ == "__main__":
    main()
