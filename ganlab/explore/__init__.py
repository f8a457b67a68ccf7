"""The Explore page's regions: the latent lab, its tools (directions, edits, inversion, saved latents), the
timeline and the nearest real digits.
"""
