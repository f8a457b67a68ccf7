"""What G learned, explored: sampling the prior (``sampling``), readable starting digits (``starts``), principal
and class directions, steering toward a digit, inversion of an image (an uploaded picture is prepared by
``gan_core.images.digit_from_bytes``) and named latents saved in a run (``store``).
"""
