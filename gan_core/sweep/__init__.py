"""Sweeps: a grid of configs run on Ray (``plan``: the manifest and its runs; ``driver``: the Ray side)."""
