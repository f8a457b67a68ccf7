"""Training in the background: the trainer and its loop (``trainer``), the evaluation schedule, the training
process the app uses (``process``) and the messages it sends.
"""
