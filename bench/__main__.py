"""Run every ``bench/*_bench.py`` module it finds (or only those named on the command line)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

SUFFIX = "_bench"


def discover() -> list[str]:
    folder = Path(__file__).resolve().parent
    return sorted(info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.endswith(SUFFIX))


def main(argv: list[str]) -> int:
    names = discover()
    wanted = [name if name.endswith(SUFFIX) else name + SUFFIX for name in argv]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; found: {', '.join(names)}", file=sys.stderr)
        return 2
    failures = 0
    for name in wanted or names:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            failures += 1
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
