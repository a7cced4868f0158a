"""Many renders from one manifest or folder: variants, resume, a process pool or a Dask cluster.

    batch = plan_batch("sessions.toml", "out/")        # every problem as FILE:LINE, before any work
    results = run_batch(batch, jobs=2)                 # or scheduler="tcp://host:8786"

See docs/batch.md.
"""
from .cluster import DistributedMissing, require_distributed
from .manifest import discover, load_manifest
from .model import Item, ManifestError, Where
from .plan import Batch, plan_batch
from .run import format_summary, run_batch
from .state import STATE_NAME, State, item_digest
from .work import ItemResult, render_item

__all__ = [
    "Batch", "DistributedMissing", "Item", "ItemResult", "ManifestError", "STATE_NAME", "State", "Where",
    "discover", "format_summary", "item_digest", "load_manifest", "plan_batch", "render_item",
    "require_distributed", "run_batch",
]
