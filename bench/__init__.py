"""Benchmarks: ``python -m bench`` (or ``make bench``) runs every ``bench/*_bench.py`` module's ``main()``.

Numbers are printed, never asserted: speed is reported (and written in the docs), not a pass/fail test.
"""
