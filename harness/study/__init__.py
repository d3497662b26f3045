"""The study: the experiment config, its stages over one run directory, and evaluation."""
