"""Golden models of the classical link's PHY (``docs/link.md``).

* :mod:`models.link.line_code`: 34b/32b blocks, sync header, ``x^58 + x^39 + 1`` scrambler;
* :mod:`models.link.framing`: messages and sync words as blocks (model transmitter) and back;
* :mod:`models.link.receiver`: alignment, lock, deframing, message delimiting, counters;
* :mod:`models.link.channel`: bit errors, bursts and bit slips on the line bits.
"""
