"""Rubric files, judge prompts and the rubric-based LLM-as-judge scorers."""
