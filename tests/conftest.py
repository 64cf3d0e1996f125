"""Shared test configuration."""

import os

# Draw without a display. The environment variable, unlike matplotlib.use,
# does not import matplotlib, so tests can still check that importing sksom
# leaves it unimported.
os.environ.setdefault("MPLBACKEND", "Agg")
