"""Regions shared by several pages: the sidebar (the config form, generated from ``GANConfig``'s fields), the
generator switch, the demo banner and what each button does (``actions``).
"""
