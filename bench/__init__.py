"""Benchmarks of issue 6: `python -m bench.<name>` from the repository root. Not part of the test suite."""
