"""Run every bench/bench_*.py module's main() and print the tables they return."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from bench import Table, machine

PREFIX = "bench_"


def discover() -> list[str]:
    """The names of the benchmark modules in this package, alphabetically."""
    here = [str(Path(__file__).resolve().parent)]
    return sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith(PREFIX))


def render(result) -> str | None:
    """What a main() returned, as text: a Table (or anything with render()), a list of them, a
    string; None (the module printed its own) prints nothing."""
    if result is None:
        return None
    if isinstance(result, Table) or callable(getattr(result, "render", None)):
        return result.render()
    if isinstance(result, list | tuple):
        return "\n\n".join(filter(None, (render(item) for item in result)))
    return str(result)


def main(argv: list[str]) -> int:
    """Run the chosen (or all) benchmarks; exit 1 if any of them failed."""
    names = discover()
    if argv:
        wanted = {a if a.startswith(PREFIX) else PREFIX + a for a in argv}
        unknown = wanted - set(names)
        if unknown:
            print(f"no such benchmark: {', '.join(sorted(unknown))}; have {', '.join(names)}")
            return 2
        names = [n for n in names if n in wanted]
    print(f"carelog benchmarks ({machine()})\n", flush=True)
    failed = []
    for name in names:
        began = time.perf_counter()
        print(f"--- {name} ...", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            text = render(module.main())
        except Exception:  # noqa: BLE001 - report it and run the other benchmarks
            traceback.print_exc()
            failed.append(name)
            continue
        if text:
            print(f"\n{text}")
        print(f"\n({name} took {time.perf_counter() - began:.0f} s)\n", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
