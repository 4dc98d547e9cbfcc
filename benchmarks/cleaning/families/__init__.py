"""Synthetic campaign families written independently of the cleaning code they judge.

Each module offers ``generate(n_units, seed) -> synth.Campaign``; import them with
``benchmarks/cleaning`` on ``sys.path`` (as the benchmark harness does).
"""
