"""On-board key distillation RTL (SPEC 7): syndrome encoding, confirmation, authentication."""
