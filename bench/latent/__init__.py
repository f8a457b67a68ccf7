"""The latent lab's benchmarks: ``python -m bench.latent`` (the tools' numbers of docs/latent-lab.md),
``python -m bench.latent.first_view`` (what the first view's sliders do) and ``python -m
bench.latent.toward_digit`` ("toward d" from readable starts on the demo)."""
