"""Prints what benchmarks/stallhook/sitecustomize.py found: per process, the longest
event-loop stalls after start-up with their commonest stack, and the slowest garbage
collections.

    python benchmarks/stallhook/report.py /tmp/stalls [how many stalls each]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: Path, most: int = 8) -> None:
    for path in sorted(folder.glob("stalls-*.json")):
        found = json.loads(path.read_text())
        # the first stall of a worker is its start-up (imports, app made in the loop)
        stalls = [s for s in found["each_stall"][1:] if s[2]]
        full = [ms for generation, ms in found["gc"] if generation == 2]
        if not stalls and not full:
            continue
        total = round(sum(s[1] for s in stalls))
        print(f"{path.name}: {len(stalls)} stalls after start-up ({total} ms in all)")
        print(f"  full collections over 5 ms: {full[-10:]} (heap frozen: {found['frozen']})")
        for at, ms, _, stack in sorted(stalls, key=lambda s: -s[1])[:most]:
            print(f"  at {at:.1f} s: {ms} ms")
            for line in stack.splitlines()[-8:]:
                if "<frozen" not in line:
                    print("    " + line.strip()[-140:])


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 8)
