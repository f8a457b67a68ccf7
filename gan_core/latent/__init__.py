"""What G learned, explored: sampling the prior (``sampling``), readable starting digits (``starts``), principal
and class directions, steering toward a digit, inversion of an image, preparing an uploaded picture
(``digit_image``) and named latents saved in a run (``store``).
"""
