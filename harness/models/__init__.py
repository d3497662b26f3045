"""Model checkpoints the harness builds or converts: the embedded tiny model, GGUF files, the pinned real model."""
