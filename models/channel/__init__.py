"""Pass and channel golden model (SPEC 6): orbit geometry, link budget and detection events."""
