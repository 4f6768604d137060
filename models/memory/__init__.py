"""Golden sizing of the flight memories (:mod:`models.memory.flight`)."""
