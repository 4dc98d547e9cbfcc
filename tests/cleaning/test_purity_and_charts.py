from __future__ import annotations

import json
import subprocess
import sys

from pingyi import charts


def test_cleaning_imports_no_web_or_database_code():
    code = (
        "import json, sys; import pingyi.cleaning, pingyi.charts; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    roots = set(json.loads(out.stdout))
    for forbidden in ("litestar", "piccolo", "jinja2", "uvicorn", "asyncpg", "sqlite3", "redis"):
        assert forbidden not in roots


def test_charts_escape_labels_and_use_no_scripts_or_urls():
    evil = "<script>alert(1)</script>&"
    pieces = [
        charts.bar_chart([evil, "b"], [3.0, -1.5], title=evil),
        charts.histogram([0.1, 0.5, -0.3, 2.0], bins=5, title=evil, x_label=evil),
        charts.line_chart([1, 2, 3], {evil: [1.0, 2.0, 1.5], "b": [2.0, 1.0, 0.5]}, title=evil),
        charts.graph(["A", evil], [("A", evil, 1.2), (evil, "A", 0.9)], title=evil),
    ]
    for svg in pieces:
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "<script" not in svg and "http" not in svg
        assert "&lt;script&gt;" in svg


def test_standalone_svg_gets_a_namespace():
    svg = charts.standalone_svg(charts.bar_chart(["a"], [1.0]))
    assert "xmlns='http://www.w3.org/2000/svg'" in svg


def test_empty_inputs_render():
    assert charts.histogram([], title="x").endswith("</svg>")
    assert charts.bar_chart([], [], title="x").endswith("</svg>")
    assert charts.line_chart([], {}, title="x").endswith("</svg>")
    assert charts.graph([], [], title="x").endswith("</svg>")
