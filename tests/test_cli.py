"""Tests for the command line (``python -m sksom``) and the progress report."""

import io
import os
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from sksom import NeuralGas, SOMClusterer, _cli
from sksom._cli import main
from sksom._progress import report_epoch

rng = np.random.RandomState(0)
X = np.concatenate([rng.normal(loc, 0.4, size=(30, 3)) for loc in (0.0, 3.0)])
PNG_MAGIC = b"\x89PNG"


def _write_csv(path, data, header="x,y,z"):
    np.savetxt(path, data, delimiter=",", header=header, comments="")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A CSV, an NPY and a model trained on them by ``sksom fit``."""
    root = tmp_path_factory.mktemp("cli")
    csv = _write_csv(root / "data.csv", X)
    npy = root / "data.npy"
    np.save(npy, X)
    model = root / "model.joblib"
    args = ["fit", str(csv), "--map-size", "3x4", "--max-iter", "3", "--out", str(model), "--quiet"]
    assert main(args) == 0
    return {"root": root, "csv": csv, "npy": npy, "model": model}


def test_fit_saves_a_model_and_reports_errors(files, capsys):
    """Check that fit trains with the options given and prints QE and TE."""
    out = files["root"] / "hex.joblib"
    code = main(["fit", str(files["npy"]), "--map-size", "4x4", "--topology", "hexagonal", "--periodic",
                 "--max-iter", "2", "--n-clusters", "2", "--out", str(out)])
    assert code == 0
    stdout = capsys.readouterr().out
    som = joblib.load(out)
    assert isinstance(som, SOMClusterer)
    assert (som.map_size_, som.topology, som.periodic, som.n_iter_) == ((4, 4), "hexagonal", True, 2)
    assert f"quantization error: {som.quantization_error_:.6g}" in stdout
    assert f"topographic error: {som.topographic_error_:.6g}" in stdout
    # Not --quiet: one progress line per epoch.
    assert len(re.findall(r"epoch \d/2", stdout)) == 2


def test_predict_prints_the_ids_of_the_model(files, capsys):
    """Check that predict writes one cluster id per row, equal to model.predict."""
    capsys.readouterr()
    assert main(["predict", str(files["model"]), str(files["csv"])]) == 0
    ids = np.array(capsys.readouterr().out.split(), dtype=int)
    np.testing.assert_array_equal(ids, joblib.load(files["model"]).predict(X))


def test_predict_to_file_and_scaled_pipeline(files):
    """Check that --scale saves a Pipeline and predict --out writes its ids."""
    model, ids = files["root"] / "scaled.joblib", files["root"] / "ids.txt"
    assert main(["fit", str(files["csv"]), "--map-size", "2x2", "--max-iter", "2", "--scale", "--quiet",
                 "--out", str(model)]) == 0
    pipe = joblib.load(model)
    assert isinstance(pipe, Pipeline) and isinstance(pipe[-1], SOMClusterer)
    assert main(["predict", str(model), str(files["npy"]), "--out", str(ids)]) == 0
    np.testing.assert_array_equal(np.loadtxt(ids, dtype=int), pipe.predict(X))


def test_header_detection(tmp_path, capsys):
    """Check that a numeric first line is data unless --header yes says otherwise."""
    path = _write_csv(tmp_path / "noheader.csv", X, header="")
    path.write_text(path.read_text().lstrip("\n"))
    X_read, names = _cli.load_data(path)
    np.testing.assert_allclose(X_read, X)
    assert names is None
    X_skip, _ = _cli.load_data(path, header="yes")
    assert X_skip.shape == (X.shape[0] - 1, 3)


def test_missing_fields_are_nan(tmp_path, capsys):
    """Check that empty and NA fields are read as NaN, which fit and predict accept."""
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c\n0,0,0\n0.1,,0\nNA,5,5\n5,n/a,5.1\n5,5,nan\n")
    X_read, names = _cli.load_data(path)
    assert names == ["a", "b", "c"]
    np.testing.assert_array_equal(np.isnan(X_read).sum(axis=0), [1, 2, 1])
    model = tmp_path / "gaps.joblib"
    assert main(["fit", str(path), "--map-size", "1x2", "--max-iter", "3", "--quiet", "--out", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(path)]) == 0
    ids = np.array(capsys.readouterr().out.split(), dtype=int)
    # Two well-separated groups, gaps or not, land on the two units.
    assert len(set(ids[:2])) == 1 and len(set(ids[2:])) == 1 and ids[0] != ids[2]


def test_npy_is_memory_mapped(files):
    """Check that a float .npy file is read as a memory map, not copied."""
    X_read, _ = _cli.load_data(files["npy"])
    assert isinstance(X_read, np.memmap)
    np.testing.assert_array_equal(X_read, X)


BAD_INPUT = [
    # (file name, content, command extra, error regex)
    ("missing.csv", None, [], "does not exist"),
    ("text.csv", "a,b\n1,2\n3,red\n", [], r"line 3: column 'b' has 'red'"),
    ("all_missing.csv", "a,b\n1,2\nNA,\n", [], "line 3: no observed value"),
    ("blank_fields.csv", "a,b\n1,2\n,\n3,4\n5,6\n", [], "line 3: no observed value"),
    ("blank_line.csv", "a,b\n1,2\n\n3,4\n", [], "line 3: no observed value"),
    ("nan_row.npy", np.array([[1.0, 2.0], [np.nan, np.nan]]), [], r"row 2 \(counting from 1\)"),
    ("ok.csv", "1,2\n3,4\n", ["--out", "/proc/nope/m.joblib"], "cannot write model file '/proc/nope/m.joblib'"),
    ("ragged.csv", "1,2\n3,4,5\n", [], "line 2: 3 fields, expected 2"),
    ("only_header.csv", "a,b\n", [], "no data rows"),
    ("vector.npy", np.arange(5.0), [], r"shape \(5,\); expected 2-D"),
    ("strings.npy", np.array([["a", "b"]]), [], "expected real numbers"),
    ("inf.npy", np.array([[1.0, np.inf]]), [], "infinity"),
    ("data.xlsx", "1,2\n", [], "unknown file type '.xlsx'"),
    ("ok.csv", "1,2\n3,4\n", ["--map-size", "0x3"], "ROWSxCOLUMNS"),
    ("ok.csv", "1,2\n3,4\n", ["--topology", "square"], "invalid choice"),
    ("ok.csv", "1,2\n3,4\n", ["--topology", "hexagonal", "--periodic", "--map-size", "3x3"], "even number of rows"),
]


@pytest.mark.parametrize("name, content, extra, message", BAD_INPUT)
def test_fit_bad_input_exits_2_without_traceback(tmp_path, capsys, name, content, extra, message):
    """Check that bad input gives exit status 2 and a clear message on stderr."""
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        np.save(path, content)
        path = tmp_path / name  # np.save keeps the .npy suffix given
    code = main(["fit", str(path), "--quiet", "--max-iter", "1", "--out", str(tmp_path / "m.joblib"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_predict_and_plot_bad_input(files, tmp_path, capsys):
    """Check exit status 2 for a wrong feature count, a non-model file, a missing --data."""
    two_columns = _write_csv(tmp_path / "two.csv", X[:, :2], header="x,y")
    assert main(["predict", str(files["model"]), str(two_columns)]) == 2
    assert "2 features" in capsys.readouterr().err
    not_a_model = tmp_path / "junk.joblib"
    not_a_model.write_bytes(b"not a pickle")
    assert main(["predict", str(not_a_model), str(files["csv"])]) == 2
    assert "not a model saved by sksom" in capsys.readouterr().err
    joblib.dump({"a": 1}, tmp_path / "dict.joblib")
    assert main(["plot", str(tmp_path / "dict.joblib")]) == 2
    assert "holds a dict" in capsys.readouterr().err
    # An sksom estimator the command line does not take is named as such.
    joblib.dump(NeuralGas(n_units=2, random_state=0).fit(X), tmp_path / "gas.joblib")
    assert main(["predict", str(tmp_path / "gas.joblib"), str(files["csv"])]) == 2
    assert "holds a NeuralGas; the command line works with a SOMClusterer" in capsys.readouterr().err
    assert main(["plot", str(files["model"]), "--kind", "hits"]) == 2
    assert "--data" in capsys.readouterr().err
    assert main(["fit", str(files["csv"]), "--out", str(files["model"])]) == 2
    assert "--force" in capsys.readouterr().err


def test_trailing_blank_lines_are_not_rows(tmp_path):
    """Check that blank lines after the last row are ignored, unlike blank rows inside."""
    path = tmp_path / "trailing.csv"
    path.write_text("a,b\n1,2\n3,4\n\n\n")
    X_read, names = _cli.load_data(path)
    np.testing.assert_array_equal(X_read, [[1.0, 2.0], [3.0, 4.0]])
    assert names == ["a", "b"]


def _no_tensorflow(monkeypatch):
    """Make starting TensorFlow fail: a check that must come first then still answers."""

    def fail():
        raise AssertionError("TensorFlow was started before the arguments were checked")

    monkeypatch.setattr(_cli, "_start_tensorflow", fail)


def test_header_names_are_kept_and_checked(files, tmp_path, capsys, monkeypatch):
    """Check that fit records a CSV header and predict/plot reject other column names."""
    model = joblib.load(files["model"])
    assert list(model.feature_names_in_) == ["x", "y", "z"]
    reversed_csv = _write_csv(tmp_path / "reversed.csv", X[:, ::-1], header="z,y,x")
    capsys.readouterr()
    _no_tensorflow(monkeypatch)
    assert main(["predict", str(files["model"]), str(reversed_csv)]) == 2
    err = capsys.readouterr().err
    assert "fitted on ['x', 'y', 'z']" in err and "column 1 is 'z', expected 'x'" in err
    assert main(["plot", str(files["model"]), "--kind", "hits", "--data", str(reversed_csv),
                 "--out", str(tmp_path / "h.png")]) == 2
    assert "fitted on ['x', 'y', 'z']" in capsys.readouterr().err


def test_unnamed_data_is_taken_by_position_without_warnings(files, capsys, recwarn):
    """Check that a .npy (no names) predicts on a named model, with no feature-name warning."""
    assert main(["predict", str(files["model"]), str(files["npy"])]) == 0
    assert not [w for w in recwarn if "feature names" in str(w.message)]
    ids = np.array(capsys.readouterr().out.split(), dtype=int)
    np.testing.assert_array_equal(ids, joblib.load(files["model"]).predict(X))


def test_component_planes_are_titled_by_the_header(files, tmp_path, monkeypatch):
    """Check that plot --kind components titles each plane with its CSV column name."""
    drawn = {}

    def keep(ax, path):
        drawn["titles"] = [a.get_title() for a in np.ravel(ax) if a.axison]
        return path

    monkeypatch.setattr(_cli, "_save_figure", keep)
    assert main(["plot", str(files["model"]), "--kind", "components", "--out", str(tmp_path / "c.png")]) == 0
    assert drawn["titles"] == ["x", "y", "z"]


@pytest.mark.parametrize("command", [
    ["plot", "MODEL", "--out", "plot.jpgx"],
    ["plot", "MODEL", "--out", "/proc/nope/plot.png"],
    ["predict", "MODEL", "CSV", "--out", "/proc/nope/ids.txt"],
    ["fit", "CSV", "--out", "/proc/nope/m.joblib"],
])
def test_outputs_are_checked_before_tensorflow_starts(files, monkeypatch, capsys, command):
    """Check that a bad --out fails at once, before TensorFlow starts or training runs."""
    _no_tensorflow(monkeypatch)
    argv = [{"MODEL": str(files["model"]), "CSV": str(files["csv"])}.get(a, a) for a in command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(r"unknown format 'jpgx'|cannot write", err), err


def test_wrote_messages_go_to_stderr(files, tmp_path, capsys):
    """Check that predict --out and plot report the files they wrote on stderr, not stdout."""
    capsys.readouterr()
    assert main(["predict", str(files["model"]), str(files["csv"]), "--out", str(tmp_path / "ids.txt")]) == 0
    assert main(["plot", str(files["model"]), "--out", str(tmp_path / "u.png")]) == 0
    captured = capsys.readouterr()
    assert "wrote" not in captured.out
    assert sum(line.startswith("wrote ") for line in captured.err.splitlines()) == 2


class _ClosedPipe(io.StringIO):
    """Standard output whose reader leaves after the first line, as ``| head -1`` does."""

    def write(self, text):
        if self.getvalue().count("\n") >= 1:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_fit_into_a_closed_pipe_finishes_quietly(files, tmp_path, monkeypatch, capsys):
    """Check that fit | head -1 still saves the model and exits 0 without a traceback."""
    stdout = _ClosedPipe()
    monkeypatch.setattr(sys, "stdout", stdout)
    out = tmp_path / "piped.joblib"
    assert main(["fit", str(files["csv"]), "--map-size", "2x2", "--max-iter", "2", "--out", str(out)]) == 0
    assert out.exists()
    assert stdout.getvalue().count("\n") == 1
    assert "Traceback" not in capsys.readouterr().err


def test_unexpected_error_exits_1(files, monkeypatch, capsys):
    """Check that an error that is not bad input gives exit status 1 and a traceback."""

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(_cli, "_cmd_predict", broken)
    assert main(["predict", str(files["model"]), str(files["csv"])]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "boom" in err and "unexpected error" in err


def test_usage_errors_and_help(capsys):
    """Check argparse exit statuses: 0 for --help, 2 for an unknown command."""
    assert main(["--help"]) == 0
    assert "predict" in capsys.readouterr().out
    assert main(["train"]) == 2
    assert main([]) == 2


def test_python_dash_m_help():
    """Check that ``python -m sksom --help`` runs in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "sksom", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for command in ("demo", "fit", "predict", "plot"):
        assert command in result.stdout


def test_console_script_points_to_main(capsys):
    """Check that the ``sksom`` script declared in pyproject.toml is this main()."""
    import importlib
    from pathlib import Path

    import sksom

    # A regex rather than tomllib, which Python 3.10 lacks.
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    scripts = pyproject.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    target = re.search(r'^sksom\s*=\s*"([^"]+)"', scripts, re.M).group(1)
    module, _, name = target.partition(":")
    script = getattr(importlib.import_module(module), name)
    assert script(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sksom {sksom.__version__}"


def test_subprocess_predict_has_a_clean_stderr(files):
    """Check that a real run prints the ids and none of TensorFlow's start-up notices."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "sksom", "predict", str(files["model"]), str(files["npy"])],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.array(result.stdout.split(), dtype=int), joblib.load(files["model"]).predict(X))
    for notice in ("absl::InitializeLog", "oneDNN", "cuda", "I0000"):
        assert notice not in result.stderr


@pytest.mark.parametrize("kind, extra", [("umatrix", []), ("hits", ["--data"]), ("components", [])])
def test_plot_writes_png(files, tmp_path, kind, extra):
    """Check that each plot kind writes a PNG image."""
    out = tmp_path / f"{kind}.png"
    extra = [e if e != "--data" else f"--data={files['csv']}" for e in extra]
    assert main(["plot", str(files["model"]), "--kind", kind, "--out", str(out), *extra]) == 0
    assert out.read_bytes()[:4] == PNG_MAGIC


def test_demo_writes_figures_and_metrics(tmp_path, capsys, monkeypatch):
    """Check that the demo writes its PNG figures and prints QE and TE."""
    out = tmp_path / "demo"
    # A fake clock that only TensorFlow's start-up advances: "Done in" must count it.
    clock = [0.0]

    class FakeTime:
        @staticmethod
        def perf_counter():
            return clock[0]

    start = _cli._start_tensorflow

    def slow_start():
        start()
        clock[0] += 42.0

    monkeypatch.setattr(_cli, "time", FakeTime)
    monkeypatch.setattr(_cli, "_start_tensorflow", slow_start)
    assert main(["demo", "--out", str(out), "--max-iter", "2"]) == 0
    stdout = capsys.readouterr().out
    assert "Done in 42.0s" in stdout
    assert stdout.count("quantization error:") == 2 and stdout.count("topographic error:") == 2
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == ["digits_codebook.png", "digits_hits.png", "digits_umatrix.png", "rgb_colors.png"]
    assert all((out / n).read_bytes()[:4] == PNG_MAGIC for n in names)


# -- progress --------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_report_epoch_lines_in_files_and_bar_on_terminals():
    """Check one line per epoch off a terminal, one redrawn bar line on it."""
    log, tty = io.StringIO(), _Terminal()
    for epoch in (1, 2, 3):
        for stream in (log, tty):
            report_epoch("SOM", epoch, 3, 1.5, 0.25, 0.1 * epoch, last=epoch == 3, stream=stream)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[1] == "[SOM] epoch 2/3  quantization error 0.25  radius 1.5  elapsed 0.20s"
    text = tty.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and text.endswith("\n")
    assert "SOM [############] 3/3  quantization error 0.25  radius 1.5  elapsed 0.30s" in text


@pytest.mark.parametrize("columns", [40, 60, 80, 120])
def test_progress_bar_fits_the_terminal_and_keeps_the_time(monkeypatch, columns):
    """Check that the bar line is never wider than the terminal and still shows QE and elapsed time."""
    monkeypatch.setenv("COLUMNS", str(columns))
    tty = _Terminal()
    report_epoch("SOMClusterer", 17, 20, 1.2345, 0.123456, 1234.5678, last=True, stream=tty)
    line = tty.getvalue().strip("\r\n").rstrip()
    assert len(line) <= columns - 1
    assert "0.1235" in line and re.search(r"elapsed 123[45]", line)


@pytest.mark.parametrize("verbose, n_lines", [(0, 0), (1, 3)])
def test_verbose_fit_prints_one_line_per_epoch(capsys, verbose, n_lines):
    """Check that verbose=1 prints each epoch's QE and time, verbose=0 nothing."""
    som = SOMClusterer((2, 3), max_iter=3, verbose=verbose, random_state=0).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == n_lines
    if n_lines:
        assert lines[-1].startswith("[SOMClusterer] epoch 3/3")
        assert f"quantization error {som.quantization_error_:.4g}" in lines[-1]
        assert re.search(r"\d+\.\d\ds$", lines[-1])
