"""Benchmarks for the performance bars of ../shared/docs/QUALITY.md (run as scripts, never in CI)."""
