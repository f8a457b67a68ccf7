"""How good a generator is: the judge and referee classifiers (``classifier``, ``judge``, ``referee``, prepared
beside training by ``loader``), FID / readability / precision-recall (``metrics``, ``manifold``,
``real_side``), nearest real digits (``neighbours``) and D's verdicts (``verdict``).
"""
