"""Run every benchmark, print one table (figure, Beat, reference, ratio, target), write bench/results.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["relay.py"]


def main() -> int:
    here = Path(__file__).parent
    failed = [name for name in BENCHMARKS if subprocess.run([sys.executable, str(here / name)]).returncode != 0]
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
