"""Data selection: pool records, rendering, decontamination, difficulty, influence, subsets.

Imports no Inspect code: the harness hands it plain records and texts.
"""
