"""Link PHY RTL of the classical laser link, both directions (``docs/link.md``)."""
