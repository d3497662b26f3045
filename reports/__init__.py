"""Paired statistics, the HTML comparison report, rater sheets and agreement.

Reads Inspect logs and rating files; imports no model code.
"""
