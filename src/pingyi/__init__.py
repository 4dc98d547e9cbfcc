"""pingyi (评议): collect, clean and deliver public-sector service ratings."""

__version__ = "0.1.0"
