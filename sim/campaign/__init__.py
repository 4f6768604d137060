"""Fault campaign: many randomised runs of the sifting and post-processing chain (and of
``make sim`` scenarios) with faults injected everywhere, on a Dask cluster (docs/campaign.md).

:mod:`sim.campaign.faults` injects the faults, :mod:`sim.campaign.runs` runs one case,
:mod:`sim.campaign.config` reads ``configs/campaign/*.toml``, :mod:`sim.campaign.runner` is
``qkdsim campaign``.
"""
