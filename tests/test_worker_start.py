"""What a server's worker does once, when it makes its app (`app_factory`): every
catalog parsed (no request waits for one) and the start-up heap frozen out of the
garbage collector's sight. Run in a process of its own: freezing is for a worker,
not for the test process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc, json
from pingyi import i18n
from pingyi.web.app import app_factory
before = i18n.translations.cache_info().currsize
app_factory()
print(json.dumps({
    "parsed_before": before,
    "parsed": i18n.translations.cache_info().currsize,
    "languages": len(i18n.available_languages()),
    "frozen": gc.get_freeze_count(),
}))
"""


def test_a_worker_parses_every_catalog_and_freezes_its_start_up_heap(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")},
        "PINGYI_DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}",
        "PINGYI_DATA_DIR": str(tmp_path / "data"),
        "PICCOLO_CONF": "pingyi.piccolo_conf",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["parsed_before"] == 0  # importing the app parses nothing yet
    assert found["languages"] >= 3
    assert found["parsed"] == found["languages"]
    assert found["frozen"] > 50_000
