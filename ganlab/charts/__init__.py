"""Charts: the Altair specs and their tables (``core``), series from a run's history, and the trust charts
(verdicts, neighbours).
"""
