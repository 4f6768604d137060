"""``sim.mutate --scheduler``: mutant jobs as Dask tasks on a cluster (here a LocalCluster of one
worker process, as ``qkdsim campaign`` makes), with the outcomes of a local run; an
unreachable scheduler is one error line."""

from contextlib import contextmanager

import pytest
from distributed import LocalCluster

from sim.campaign import runner
from sim.campaign.config import CampaignConfigError
from sim.mutate import ROOT, MutateError, dask_executor
from tests.common.test_mutate import MAPPER, _job


def test_dask_scheduler_runs_mutant_jobs(tmp_path):
    """Two jobs on a one-worker cluster: the unmutated mapper survives a test that elaborates
    it, a mutant that renames its class is killed (each job is its own pytest process)."""
    test = tmp_path / "test_elaborates.py"
    test.write_text("from amaranth.back import rtlil\n\nfrom rtl.satellite import mapper\n\n\n"
                    "def test_elaborates():\n"
                    "    assert rtlil.convert(mapper.SymbolMapper(4), name='m')\n")
    source = (ROOT / MAPPER.source).read_text()
    broken = source.replace("class SymbolMapper(", "class SymbolMapperX(")
    jobs = [_job(source, [str(test)], ()) | {"id": "same"},
            _job(broken, [str(test)], ()) | {"id": "broken"}]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        got = {r["id"]: r["result"] for r in dask_executor(cluster.scheduler_address)(jobs)}
    assert got == {"same": "survived", "broken": "killed"}


def test_unreachable_scheduler_is_a_mutate_error_before_any_job(monkeypatch):
    """Reached when the executor is made, so no block's baseline runs first."""
    @contextmanager
    def refused(config, scheduler):
        raise CampaignConfigError(f"cannot reach the Dask scheduler {scheduler!r}: refused")
        yield

    monkeypatch.setattr(runner, "_client", refused)
    with pytest.raises(MutateError, match=r"^cannot reach the Dask scheduler 'tcp://x:1'"):
        dask_executor("tcp://x:1")
