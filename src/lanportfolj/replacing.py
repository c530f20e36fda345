"""A file written under a temporary name beside its target and renamed into place when whole.

A reader (another worker, a user opening the file) never sees half a file, and a failure part-way —
an error, a mismatched SHA-256, Ctrl-C — leaves the target as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(target: Path, *, prefix: str | None = None) -> Iterator[BinaryIO]:
    """A binary file to write ``target``'s new content to; it takes ``target``'s name when the block
    ends without an exception, and is removed when it raises."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix or f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
