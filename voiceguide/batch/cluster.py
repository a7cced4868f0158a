"""Renders on a Dask cluster: each item one task, rendering straight into the output folder,
which the workers must share (same path on every machine)."""
from __future__ import annotations

import os
import uuid
from typing import Any, Iterator, Sequence

from ..errors import VoiceguideError
from .model import Item
from .plan import one_line
from .work import ItemProgress, ItemResult, render_item

INSTALL_HINT = "install it with: pip install 'voiceguide[distributed]'"
CONNECT_TIMEOUT = "10s"          # to reach a Dask scheduler


class DistributedMissing(VoiceguideError):
    """--scheduler was given but the distributed package is not installed."""


def require_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise DistributedMissing(f"--scheduler needs the distributed package: {INSTALL_HINT}") from None
    return distributed


def _host(address: str) -> str:
    return address.split("://", 1)[-1].rsplit(":", 1)[0]


def _dask_render(item: Item, threads_per_host: dict[str, int]) -> ItemResult:
    """One Dask task: give the render its share of the worker machine's cores."""
    from distributed import get_worker
    threads = threads_per_host.get(_host(get_worker().address), 1)
    return render_item(item, max(1, (os.cpu_count() or 1) // max(1, threads)))


def run_dask(items: Sequence[Item], address: str, report: ItemProgress) -> Iterator[tuple[int, ItemResult]]:
    """Each item one task on the cluster, rendering straight into the (shared) output folder."""
    distributed = require_distributed()
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise VoiceguideError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    futures: dict[Any, int] = {}
    try:
        try:
            workers = client.scheduler_info(n_workers=-1)["workers"]
        except TypeError:                  # older distributed: every worker is listed anyway
            workers = client.scheduler_info()["workers"]
        threads: dict[str, int] = {}
        for address_, info in workers.items():
            threads[_host(address_)] = threads.get(_host(address_), 0) + int(info.get("nthreads", 1))
        run = uuid.uuid4().hex[:8]
        for position, item in enumerate(items):
            future = client.submit(_dask_render, item, threads, pure=False,
                                   key=f"voiceguide-{run}-{position}-{item.name}")
            futures[future] = position
        for future in distributed.as_completed(list(futures)):
            position = futures[future]
            try:
                result = future.result()
            except Exception as exc:       # the task itself failed (a worker died, ...)
                result = ItemResult(items[position], "failed", f"Dask task failed: {one_line(exc)}")
            yield position, result
    except BaseException:
        client.cancel(list(futures))       # queued items stop; running ones finish atomically
        raise
    finally:
        client.close()
