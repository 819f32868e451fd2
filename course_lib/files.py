"""Writing files safely: the one atomic-write helper of the library."""
import os
import tempfile
from pathlib import Path


def atomic_write(path, data):
    """Write the bytes ``data`` to ``path`` (parents created) so that a half-written file never
    replaces a good one: write a temporary file beside it, then rename. Returns the size in bytes."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path.stat().st_size
