"""`make bench`: run every bench/bench_*.py (or those named) and print their figures.

Each bench module has `main()`, which measures against a baseline in the same run and prints
ratios: these machines are noisy, so absolute times are only context.
"""
import importlib
import pkgutil
import sys
from pathlib import Path


def main(names: list[str]) -> None:
    here = Path(__file__).parent
    found = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    for name in names or found:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
