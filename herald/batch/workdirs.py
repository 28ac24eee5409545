"""Per-attempt working directories: `ROOT/<readable id>-<hash>/attempt-N`.

Ids are arbitrary text ("../etc", "a/b", emoji, 10 kB long): the directory name keeps a
safe, short, readable part of the id and adds a hash of the whole id, so two ids never
share a directory and none can point outside the root.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from herald.batch.samples import SampleId, id_key

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_READABLE_CHARS = 40


def default_root(output: Path) -> Path:
    """The default `--workdir`: beside the output, named after it (`out.jsonl` → `out.work`)."""
    return output.with_name(f"{output.stem or output.name}.work")


def workdir_for(root: Path, sample_id: SampleId, attempt: int) -> Path:
    """Where attempt `attempt` of `sample_id` works (the path only; nothing is created)."""
    readable = _UNSAFE.sub("_", str(sample_id)).strip("._")[:_READABLE_CHARS] or "id"
    digest = hashlib.sha256(id_key(sample_id).encode("utf-8")).hexdigest()[:10]
    return root / f"{readable}-{digest}" / f"attempt-{attempt}"
