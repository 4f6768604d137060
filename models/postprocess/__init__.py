"""Post-processing golden models (paper steps 3 to 6, SPEC 5 and 7).

Plain numpy functions, no simulator imports, so that the RTL scoreboards, the whole-pass runner
(:mod:`sim.pass_run`) and the ``qkdsim`` CLI share one implementation.
"""
