"""``python -m benchmarks``: the same command line as ``tools/benchmark.py``."""
from .cli import main

main()
