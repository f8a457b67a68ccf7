"""Benchmarks of the latent lab's edits (a folder of its own: bench/ holds at most 15 modules)."""
