"""diq-harness: the `diq` CLI, experiment runs, fine-tuning and the embedded default.

`harness.core.errors` and `harness.core.io` are dependency-free leaf modules that every package
uses; everything else in `harness` sits on top of `selection`, `tasks`, `rubrics` and
`reports`. Keep this file free of imports so the leaf modules stay cheap to import.
"""
