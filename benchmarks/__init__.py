"""Benchmarks printed by `make bench`: one module per area, each with main()."""
