"""Entry point for Inspect: registers the harness's model providers (the demo's reference grader)."""

# ruff: noqa: F401

from harness.demo.grader import reference_grader
