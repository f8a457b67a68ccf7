"""Speed of the default run, side by side in one run (issue 14's "Done when"), in a few minutes.

    python -m bench.throughput [--epochs 30] [--run-repeats 2] [--steps 120] [--repeats 3] [--device auto]
                               [--no-startup] [--budget 285]

Prints, on this machine and in this order:
  1. the default run as a user runs it (``stable`` preset at the app's default length, precision ``auto``
     as this machine resolves it, quality metrics on with their default schedule, checkpoints and grids
     every epoch, the bundled offline digits and their shipped judge), images/s from its first step to
     its end; the same run with metrics off, and metrics' share of the wall time;
  2. the common-way peer loop (frozen below: DataLoader over torchvision's MNIST with a per-image
     ToTensor, separate D passes on real and fake, sigmoid + BCELoss, a loss read back every step);
  3. the bare training step (no checkpoints, grids or metrics) of ``stable`` and of ``seed`` in the
     default run's precision, and the matmul-only ceiling: the step's own matmuls at their own shapes in
     that precision, nothing else;
  4. where the default run computes in bf16 (native bf16, see gan_core.gan.precision): the fp32 step beside
     it, and the fp32 step against the fp32 ceiling;
  5. start-up: CLI launch to first step, fresh (empty data and checkpoint folders) and again (cached);
     the app's Train to first step, with the training process it starts ahead of a click and without.
Ratios are measured in the same minutes (interleaved repeats, medians), so a shared machine's load
moves both sides alike; compare ratios across machines, not absolute figures.

The bench fits in ``--budget`` seconds on any CPU (``measure_within``): start-up (5) first, then one of
each short figure (2-4) and one pair of whole runs (1), then more of them while they fit, timed by how
long the first ones took. Where one pair of whole runs would not fit, its runs are shortened
(``fitted_epochs``), and the output says so.

Its parts, by concern: ``runs`` (1, and the bare steps of 3 and 4), ``peer`` (2), ``ceiling`` (the matmul-only
ceiling of 3 and 4), ``startup`` (5), ``budget`` (fitting the figures into ``--budget``) and ``__main__``
(the command line and its output); the timing rule is ``bench.common``'s, as in every bench.
"""
