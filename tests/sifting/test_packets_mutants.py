"""``Packet.same_as``, directed: both sides' packets agree only with the same index, the same
tags bit for bit and, where both know them, the same pulses (the key bits may differ)."""

import numpy as np

from models.sifting.packets import Packet


def _packet(index=3, basis=(0, 1, 1), intensity=(0, 2, 1), pulse=(5, 9, 12), bit=(1, 0, 1)):
    arr = np.array
    return Packet(index, arr(bit, np.uint8), arr(basis, np.uint8), arr(intensity, np.uint8),
                  None if pulse is None else arr(pulse, np.uint64))


def test_packets_agree_only_on_index_tags_and_known_pulses():
    ref = _packet()
    assert ref.same_as(_packet(bit=(0, 0, 0)))  # key bits are each side's own
    assert ref.same_as(_packet(pulse=None)) and _packet(pulse=None).same_as(ref)
    for other in (_packet(index=4), _packet(basis=(1, 1, 1)), _packet(intensity=(0, 2, 2)),
                  _packet(pulse=(5, 9, 13))):
        assert not ref.same_as(other) and not other.same_as(ref)
