"""End-to-end co-simulation top (``make sim``): both FPGAs, the optical channel and the link."""
