"""The GAN itself: the networks (spectral norm, dropout), the loss menu, DiffAugment, the EMA generator,
precision, gradient norms, the training state and its one step (``state``), hand-made steps (``stepping``) and
eval-mode helpers (``modes``). Knows no files, threads or runs.
"""
