"""End-to-end co-simulation top (issue 6): both FPGAs, the optical channel and the link."""
