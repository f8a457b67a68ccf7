"""Training in the background: the trainer and its loop (``trainer``) with the parts it holds, one job each
(``requests``, ``publish``, ``evaluation`` with its ``schedule``, ``checkpointing``, ``epochs``), and the
training process the app uses (``process``) with the messages it sends (``messages``).
"""
