"""Packetized sifting RTL (SPEC 4.4, 5): ground reporting, satellite and ground sifting."""
