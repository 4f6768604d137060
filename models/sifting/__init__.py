"""Golden models of packetized sifting (SPEC 4.4 and 5): reports, sift vectors, packets, link.

Bit-level formats and protocol decisions are documented in ``docs/sifting.md``.

* :mod:`models.sifting.entries`: per-detection golden models of the RTL blocks
  (:class:`rtl.sifting.ground_sift.GroundSift`, :class:`rtl.sifting.satellite_sift.SatelliteSift`);
* :mod:`models.sifting.packets`: 100,000-bit sifted-key packets with per-bit tags;
* :mod:`models.sifting.messages`: uplink report frames and downlink sift messages (words, CRC-32);
* :mod:`models.sifting.classical_link`: the lossy 156 Mbit/s laser link and both protocol endpoints.
"""
