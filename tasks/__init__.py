"""Inspect tasks for medical benchmarks, open-ended clinical cases and HealthBench.

Registered through the `inspect_ai` entry point (`tasks._registry`), so after
`pip install -e .` every task runs as `inspect eval tasks/<name>`.
"""
