"""Run every benchmark module (or those named on the command line) and print its figures."""

import importlib
import pkgutil
import sys

import benchmarks


def main(names):
    available = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))
    for name in names or available:
        if name not in available:
            sys.exit("unknown benchmark %r (available: %s)" % (name, ", ".join(available)))
        print("== %s ==" % name, flush=True)
        importlib.import_module("benchmarks." + name).main()
        print(flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
