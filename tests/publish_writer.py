"""Publishes version after version of a large file or folder through lang1core.publish,
printing each version number once it is in place, until killed (tests/test_publish.py).

    python publish_writer.py file|dir DEST [fallback] [once]

`once` publishes a single version and exits.
"""

import sys
from pathlib import Path

from lang1core import publish

BLOCK = 1 << 20
BLOCKS = 24  # a file of 24 MiB: the kill lands mid-write
FILES = 6


def body(version: int) -> bytes:
    return version.to_bytes(8, "little") * (BLOCK // 8)


def main(kind: str, dest: Path, fallback: bool, once: bool) -> None:
    if fallback:  # as on a system without renameat2
        publish._exchange = lambda a, b: False
    version = 1
    while True:
        block = body(version)
        if kind == "file":
            with publish.published_file(dest) as tmp, open(tmp, "wb") as f:
                for _ in range(BLOCKS):
                    f.write(block)
        else:
            with publish.published_dir(dest) as tmp:
                for i in range(FILES):
                    with open(tmp / f"part{i}.bin", "wb") as f:
                        for _ in range(BLOCKS // FILES):
                            f.write(block)
                (tmp / "version.txt").write_text(str(version))
        print(version, flush=True)
        if once:
            return
        version += 1


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), "fallback" in sys.argv[3:], "once" in sys.argv[3:])
