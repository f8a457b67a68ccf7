"""A run on disk and how it is read: the checkpoint record (``record``), its file (``checkpoint``,
``migrations``), the run folder with its lock and CSVs (``folder``), the summary, the background writer, the
saved-run reader, the demo run, the published snapshot a reader sees (``snapshot``) and the comparison of runs
(``compare``).
"""
