"""Run every example of the gallery so that none of them can rot."""

from pathlib import Path

import matplotlib
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.examples
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_draws(path, monkeypatch):
    """Check that the example runs to the end and leaves at least one figure."""
    import runpy

    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    # plt.show() would close nothing under Agg, but make it a no-op anyway so
    # that the figures are still open when the example ends.
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    # Examples read local data relative to themselves and may write next to
    # the working directory: run them from the examples folder.
    monkeypatch.chdir(path.parent)
    plt.close("all")
    try:
        runpy.run_path(str(path), run_name="__main__")
        figures = [plt.figure(n) for n in plt.get_fignums()]
        assert figures, f"{path.name} drew no figure"
        assert all(fig.axes for fig in figures), f"{path.name} left an empty figure"
    finally:
        plt.close("all")


def test_every_example_has_a_gallery_title():
    """Check that each example opens with a docstring title, as sphinx-gallery needs."""
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith('"""'), f"{path.name} does not start with a docstring"
        lines = [line.rstrip() for line in text[3:].split("\n")]
        lines = [line for line in lines if line][:3]
        if set(lines[0]) == {"="}:  # an overline, optional
            assert len(lines[0]) >= len(lines[1]), f"{path.name}: overline shorter than the title"
            lines = lines[1:]
        title, underline = lines[0], lines[1]
        assert set(underline) == {"="} and len(underline) >= len(title), f"{path.name}: bad title underline"


def test_section_underlines_cover_their_titles():
    """Check that every ``# ----`` section underline is as long as its title."""
    for path in EXAMPLES:
        lines = path.read_text().splitlines()
        for number, (title, underline) in enumerate(zip(lines, lines[1:]), start=2):
            text = underline[2:]
            if underline.startswith("# ") and len(text) >= 3 and set(text) <= set("-=~^") and len(set(text)) == 1:
                assert len(text) >= len(title) - 2, f"{path.name}:{number}: underline shorter than its title"
