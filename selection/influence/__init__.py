"""Exact influence scores: score_i = <grad L_i, G>, G the mean validation gradient.

- `params`: which weights (all-linear, attention, mlp, lora, all);
- `batching`: records as padded batches; the one per-sample loss everything uses;
- `gradient`: G;
- `fast`: the reverse contraction (default): one forward, one input-gradient backward;
- `jvp`: forward mode along G (second exact path);
- `reference`: per-sample autograd gradients (the oracle) and vmap(grad) (benchmark);
- `less`: LESS-compatible features (projection, cosine, Adam preconditioning);
- `model`: loading any HF causal LM (+ PEFT adapter) and the precision policy;
- `runner`: checkpointed, resumable, sharded scoring of a pool.
"""
