"""Model checkpoints the harness builds or converts: the embedded tiny model."""
