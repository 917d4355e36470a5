"""The embedded structure parser: a small model trained on the data engine's renders.

`model.StructureParserModel` is the network (diffusers style), `targets` its vocabulary and the
box-relative joint encoding, `parser.EmbeddedParser` the ``--parser embedded`` backend. Torch
loads only when a model is built or parsed with.
"""
