"""Names of every selection choice (formats, parameter sets, methods, strategies, ...).

Kept free of heavy imports, so the command line can build its options (and `diq --help`
can list commands) without loading torch; the modules that implement each choice import
their names from here.
"""

from __future__ import annotations

POOL_FORMATS = ("auto", "medical-o1", "medmcqa", "jsonl", "parquet", "hf")
PARAMETER_SETS = ("all-linear", "attention", "mlp", "lora", "all")
METHODS = ("fast", "jvp", "per-sample", "less")
PRECISIONS = ("auto", "fp32", "fp64", "bf16")
DIFFICULTY_SCORERS = ("ifd", "loss", "length", "classifier", "external")
AXES = ("knowledge", "reasoning", "overall")
DIFFICULTY_TEXTS = ("question", "question+reasoning")
DEFAULT_ENCODER = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext"
STRATEGIES = (
    "diq",
    "random",
    "full",
    "difficulty",
    "influence",
    "length",
    "loss",
    "ifd",
    "similarity",
    "q1",
    "q2",
    "q3",
    "q4",
)
