"""Database layer: piccolo tables, engine set-up and migrations."""

import os

# Piccolo finds its engine through this variable; set it before any query runs,
# whatever the entry point (CLI, ASGI server, tests).
os.environ.setdefault("PICCOLO_CONF", "pingyi.piccolo_conf")
