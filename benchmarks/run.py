"""The historical entry point, kept for `make bench` and old habits: the same as
`.venv/bin/python -m benchmarks`, so `benchmarks/run.py --rate 10 --duration 20` still runs the
login scenario and `benchmarks/run.py requests` the requests one. See benchmarks/README.md.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts benchmarks/ itself first on sys.path; the package needs the
    # checkout there instead (and benchmarks/ must not shadow anything by its module names).
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from benchmarks.__main__ import main

    sys.exit(main())
