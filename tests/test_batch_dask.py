"""The same batch on a Dask cluster: a LocalCluster of two worker processes stands in for
machines sharing the output folder. Needs the distributed extra (part of dev)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster
from mutagen.mp3 import MP3

from voiceguide.batch import STATE_NAME, plan_batch, run_batch
from voiceguide.cli import main
from conftest import quiet_routine, routine_text

TINY = "# One\nRelax your hands. [pause 1s]\nWell done.\n"


@pytest.fixture(scope="module")
def cluster():
    """Two local worker processes; each item carries the cache folder the submitter chose."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        yield local


def test_a_batch_runs_on_the_cluster_and_resumes(cluster, cache_env, tmp_path):
    folder = tmp_path / "routines"
    folder.mkdir()
    for name, extra in (("one", ""), ("two", "Shake them out. [pause 2s]\n")):
        (folder / f"{name}.routine.md").write_text(quiet_routine(TINY + extra, "T"))
    (folder / "bad.routine.md").write_text(routine_text("# One\n[hold]\n"))
    out = tmp_path / "shared"
    results = run_batch(plan_batch(folder, out, {"engine": "pyttsx3"}), scheduler=cluster.scheduler_address,
                        cache=cache_env)
    status = {r.item.name: r.status for r in results}
    assert status == {"bad.mp3": "failed", "one.mp3": "ok", "two.mp3": "ok"}
    for result in results[1:]:
        assert abs(MP3(out / result.item.name).info.length - result.duration) < 0.1 and result.duration > 3
    assert set(json.loads((out / STATE_NAME).read_text())["items"]) == {"one.mp3", "two.mp3"}
    with Client(cluster) as client:                         # the items were tasks on the cluster
        prefixes = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    assert any(p.startswith("voiceguide") for p in prefixes)
    again = CliRunner().invoke(main, ["batch", str(folder), "-o", str(out), "--engine", "pyttsx3",
                                      "--scheduler", cluster.scheduler_address])
    assert again.exit_code == 2                              # bad.mp3 still fails
    assert "3 items: 0 rendered, 2 up to date, 1 failed" in again.output
    assert again.output.rstrip().endswith("bad.mp3: " + results[0].message)


def test_an_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("voiceguide.batch.cluster.CONNECT_TIMEOUT", "2s")
    (tmp_path / "one.routine.md").write_text(routine_text(TINY))
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "-o", str(tmp_path / "out"),
                                       "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.output.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.output.splitlines()) == 1
