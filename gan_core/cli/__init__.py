"""``python -m gan_core``: train, continue, sample, evaluate, list (``main``), the latent commands (``latent``)
and sweeps (``sweep``).
"""
