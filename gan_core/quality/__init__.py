"""How good a generator is: the judge and referee classifiers (``classifier``, ``judge``, ``referee``, the
rules they share in ``shared``, prepared beside training by ``loader``), FID / readability /
precision-recall (``metrics`` on top of ``real_side``, over the leaves ``frechet``, ``manifold`` and
``distance``), nearest real digits (``neighbours``) and D's verdicts (``verdict``).
"""
