"""Training loops for the embedded models (parser, part DiT), run by `spark-articulate train`.

Training never runs in CI beyond a few-step smoke run; the shipped weights live in ``models/``.
"""
