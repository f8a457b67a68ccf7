"""The app's state and caches: session keys (``keys``), the server's one trainer (``holder``), cached resources,
where a page's run comes from (``source``), refresh timing, the runs list and the cached models the lab uses.
"""
