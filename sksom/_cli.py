"""Command line interface: ``python -m sksom`` and the ``sksom`` script.

Exit status: 0 on success, 2 for a usage error or bad input (a missing file,
a bad shape, a non-numeric column; the message goes to stderr, without a
traceback), 1 for anything unexpected (a bug: the traceback is printed).
"""

import argparse
import contextlib
import csv
import os
import pickle
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2

_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_DATA_SUFFIXES = (".csv", ".tsv", ".npy")
# Fields read as missing values (NaN), which the estimator supports.
_MISSING = frozenset({"", "na", "n/a", "nan", "null"})


class CommandError(Exception):
    """Bad input from the user: reported on stderr with exit status 2."""


# -- reading and writing -------------------------------------------------------


def _existing_file(path, what):
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{what} {str(path)!r} does not exist.")
    if not path.is_file():
        raise CommandError(f"{what} {str(path)!r} is not a file.")
    return path


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text_table(path, delimiter, header):
    """Rows of a delimited text file as a float array, and the column names (or None)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        # Each row with the number of the line it ends on (1-based).
        rows = [(row, reader.line_num) for row in reader]
    # Blank lines at the end of the file are not rows; anywhere else a row
    # with no value is an error below, never dropped, so that the ids that
    # predict prints stay aligned with the rows of the file.
    while rows and not any(cell.strip() for cell in rows[-1][0]):
        rows.pop()
    if not rows:
        raise CommandError(f"{str(path)!r} is empty.")
    # "auto": a first row that is not all numbers holds the column names.
    first = rows[0][0]
    has_header = header == "yes" or (header == "auto" and not all(_is_number(c) for c in first))
    names = [c.strip() for c in first] if has_header else None
    body = rows[1:] if has_header else rows
    if not body:
        raise CommandError(f"{str(path)!r} has a header but no data rows.")
    n_columns = len(first)
    X = np.empty((len(body), n_columns))
    for i, (row, line) in enumerate(body):
        if not any(cell.strip() for cell in row):
            raise CommandError(
                f"{str(path)!r}, line {line}: no observed value (a blank line or only empty fields); "
                "each row is a sample and needs at least one value: delete the row or fill it in."
            )
        if len(row) != n_columns:
            raise CommandError(
                f"{str(path)!r}, line {line}: {len(row)} fields, expected {n_columns} "
                "like the first line; every row needs the same number of columns."
            )
        for j, cell in enumerate(row):
            cell = cell.strip()
            if cell.lower() in _MISSING:
                X[i, j] = np.nan
                continue
            try:
                X[i, j] = float(cell)
            except ValueError:
                column = names[j] if names is not None else f"column {j + 1}"
                raise CommandError(
                    f"{str(path)!r}, line {line}: column {column!r} has {cell!r}; "
                    "sksom needs numeric columns: drop or encode that column first."
                ) from None
        if np.isnan(X[i]).all():
            raise CommandError(
                f"{str(path)!r}, line {line}: no observed value (every field is empty or missing); "
                "each row is a sample and needs at least one value: delete the row or fill it in."
            )
    return X, names


def _check_npy_rows_observed(X, path):
    """Raise for a row of a float array with no observed value, numbered from 1."""
    step = max(1, 2**21 // max(1, X.shape[1]))
    for start in range(0, X.shape[0], step):
        empty = np.flatnonzero(np.isnan(X[start : start + step]).all(axis=1))
        if empty.size:
            raise CommandError(
                f"{str(path)!r}, row {start + empty[0] + 1} (counting from 1): every value is NaN; "
                "each row is a sample and needs at least one observed value."
            )


def load_data(path, *, header="auto"):
    """Read a data file into a 2-D float array.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (comma-separated), ``.tsv`` (tab-separated) or ``.npy``
        file.
    header : {"auto", "yes", "no"}, default="auto"
        Whether the first line of a text file holds column names; ``"auto"``
        takes it as a header when one of its fields is not a number.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The data: float64 from text, NaN for missing fields (empty, ``NA``,
        ``N/A``, ``nan``, ``null``); a read-only memory map of a float
        ``.npy`` file.
    feature_names : list of str or None
        Column names from the header line of a text file; ``None`` without a
        header (and for ``.npy``).

    Raises
    ------
    CommandError
        For a missing file, an unknown suffix, a non-numeric column, rows
        of different lengths, a row without any value (its line number, from
        1, is in the message) or a shape that is not 2-D.
    """
    path = _existing_file(path, "data file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            # Memory-mapped: the estimator reads batch_size rows at a time, so
            # arrays larger than memory train without being loaded whole.
            X = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise CommandError(f"{str(path)!r} is not a readable .npy array: {exc}") from None
        if X.ndim != 2:
            raise CommandError(
                f"{str(path)!r} holds an array of shape {X.shape}; expected 2-D "
                "(n_samples, n_features). Reshape a single feature with X.reshape(-1, 1)."
            )
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
            raise CommandError(f"{str(path)!r} holds {X.dtype} values; expected real numbers.")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        _check_npy_rows_observed(X, path)
        names = None
    elif suffix in _DELIMITERS:
        X, names = _read_text_table(path, _DELIMITERS[suffix], header)
    else:
        raise CommandError(f"{str(path)!r}: unknown file type {suffix!r}; expected one of {', '.join(_DATA_SUFFIXES)}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise CommandError(f"{str(path)!r} holds no data (shape {X.shape}).")
    # NaN (missing) and infinite values are left to the estimator's checks.
    return X, names


def _som_of(model):
    """The SOMClusterer of a model: the model itself or a Pipeline's last step."""
    from sklearn.pipeline import Pipeline

    from ._som import SOMClusterer

    som = model[-1] if isinstance(model, Pipeline) else model
    return som if isinstance(som, SOMClusterer) else None


def _record_feature_names(model, names):
    """Keep a CSV header as the fitted model's ``feature_names_in_`` (every step).

    The model is fitted on a NumPy array, so scikit-learn cannot see the
    names; they are set afterwards, as fitting a DataFrame would have.
    """
    if names is None:
        return
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    for step in steps:
        if getattr(step, "n_features_in_", None) == len(names):
            step.feature_names_in_ = np.asarray(names, dtype=object)


def _check_feature_names(model, names, path):
    """A header must name the model's features, in the same order.

    Without a header on either side the columns are taken by position. A
    different number of columns is left to the estimator's own message.
    """
    fitted = getattr(model, "feature_names_in_", None)
    if names is None or fitted is None or len(names) != len(fitted):
        return
    fitted = [str(name) for name in fitted]
    if list(names) != fitted:
        column = next(j for j, (a, b) in enumerate(zip(names, fitted)) if a != b)
        raise CommandError(
            f"{str(path)!r} has the columns {names}, but the model was fitted on {fitted} "
            f"(column {column + 1} is {names[column]!r}, expected {fitted[column]!r}); "
            "give the columns the model's names, in the same order."
        )


@contextlib.contextmanager
def _names_checked():
    """Silence scikit-learn's warning about unnamed input: the CLI checked the names."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def _check_writable(path, what):
    """Fail before any work when ``path`` cannot be written (its folder is created)."""
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{what} {str(path)!r} is a folder; give a file name.")
    # Trying is the only reliable test (permissions, read-only mounts, /proc,
    # root): create the folder and a scratch file in it.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".sksom-check-"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(f"{str(path)!r} is read-only")
    except OSError as exc:
        raise CommandError(f"cannot write {what} {str(path)!r}: {exc.strerror or exc}.") from None
    return path


def _check_image_path(path):
    """The --out of plot: writable, with a suffix matplotlib can write (checked without TensorFlow)."""
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lower().lstrip(".")
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    if suffix not in formats:
        raise CommandError(
            f"cannot write an image to {str(path)!r}: unknown format {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(formats)}."
        )
    return _check_writable(path, "image file")


# What unpickling a file that is not a model (or names classes that are not
# installed) raises.
_UNREADABLE_MODEL = (
    pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, OSError, ImportError, AttributeError
)


def load_model(path):
    """Load a model saved by ``sksom fit`` (or by ``joblib.dump``).

    Parameters
    ----------
    path : str or path-like
        A joblib file holding a fitted :class:`~sksom.SOMClusterer`, or a
        fitted :class:`~sklearn.pipeline.Pipeline` ending with one.

    Returns
    -------
    model : SOMClusterer or Pipeline
        The fitted model.
    """
    import joblib
    from sklearn.utils.validation import check_is_fitted

    path = _existing_file(path, "model file")
    try:
        model = joblib.load(path)
    except _UNREADABLE_MODEL as exc:
        raise CommandError(f"{str(path)!r} is not a model saved by sksom ({type(exc).__name__}: {exc}).") from None
    som = _som_of(model)
    if som is None:
        raise CommandError(
            f"{str(path)!r} holds a {type(model).__name__}; the command line works with a "
            "SOMClusterer or a Pipeline ending in one."
        )
    check_is_fitted(som)
    return model


# -- commands --------------------------------------------------------------------


def parse_map_size(text):
    """``"auto"`` or ``"ROWSxCOLUMNS"`` (e.g. ``"20x30"``) as for ``map_size``."""
    text = text.strip().lower()
    if text == "auto":
        return "auto"
    parts = text.split("x")
    if len(parts) == 2 and all(p.strip().isdigit() and int(p) > 0 for p in parts):
        return int(parts[0]), int(parts[1])
    raise argparse.ArgumentTypeError(f"expected 'auto' or ROWSxCOLUMNS such as 20x20, got {text!r}")


def _print_metrics(som, stream=None):
    from ._topology import fitted_lattice

    stream = sys.stdout if stream is None else stream
    (rows, columns), topology, periodic = fitted_lattice(som)
    print(f"map size: {rows}x{columns} ({topology}{', periodic' if periodic else ''})", file=stream)
    print(f"quantization error: {som.quantization_error_:.6g}", file=stream)
    print(f"topographic error: {som.topographic_error_:.6g}", file=stream)


def _save_figure(ax, path):
    # Plot functions return one Axes or an array of them; all share a figure.
    figure = np.ravel(ax)[0].figure
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path


def _use_file_backend():
    # Figures are only written to files: no window, whatever the platform.
    import matplotlib

    matplotlib.use("Agg")


def _cmd_demo(args):
    from sklearn.datasets import load_digits

    from . import plotting
    from ._som import SOMClusterer

    _start_tensorflow()
    _use_file_backend()
    out = Path(args.out)
    written = []

    digits = load_digits()
    X = digits.data / 16.0
    print(f"Digits: {X.shape[0]} images of 8x8 pixels, a 12x12 map, batch algorithm.")
    som = SOMClusterer((12, 12), max_iter=args.max_iter, random_state=0, verbose=args.verbose).fit(X)
    _print_metrics(som)
    purity = _unit_purity(som.labels_, digits.target)
    print(f"share of images whose unit's most common digit is their own: {purity:.3f}")
    written.append(_save_figure(plotting.plot_codebook_images(som, image_shape=(8, 8)), out / "digits_codebook.png"))
    written.append(_save_figure(plotting.plot_u_matrix(som), out / "digits_umatrix.png"))
    written.append(_save_figure(plotting.plot_hit_map(som, X), out / "digits_hits.png"))

    colors = np.random.default_rng(0).uniform(size=(1000, 3))
    print("\nRGB colours: 1000 random colours on a 20x20 map, as in Kohonen's classic picture.")
    rgb = SOMClusterer((20, 20), max_iter=args.max_iter, random_state=0, verbose=args.verbose).fit(colors)
    _print_metrics(rgb)
    written.append(_save_figure(plotting.plot_codebook_colors(rgb), out / "rgb_colors.png"))

    for path in written:
        _report_written(str(path))
    # From the start of main(): TensorFlow's start-up is part of the wait.
    print(f"Done in {time.perf_counter() - args.started:.1f}s (TensorFlow's start-up included).")
    return EXIT_OK


def _unit_purity(units, target):
    """Share of samples whose unit's majority label is their own label."""
    correct = 0
    for unit in np.unique(units):
        correct += np.bincount(target[units == unit]).max()
    return correct / len(target)


def _cmd_fit(args):
    import joblib
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._som import SOMClusterer

    X, names = load_data(args.data, header=args.header)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CommandError(f"{str(out)!r} exists; pass --force to overwrite it.")
    # Checked now, not after a long training.
    _check_writable(out, "model file")
    _start_tensorflow()
    som = SOMClusterer(
        args.map_size,
        topology=args.topology,
        periodic=args.periodic,
        neighborhood=args.neighborhood,
        algorithm=args.algorithm,
        max_iter=args.max_iter,
        n_clusters=args.n_clusters,
        device=args.device,
        strategy=args.strategy,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    model = make_pipeline(StandardScaler(), som) if args.scale else som
    if not args.quiet:
        print(f"Training on {X.shape[0]} samples x {X.shape[1]} features from {args.data}.")
    start = time.perf_counter()
    model.fit(X)
    _record_feature_names(model, names)
    _print_metrics(som)
    print(f"training time: {time.perf_counter() - start:.2f}s")
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out)
    _report_written(f"model to {out}")
    return EXIT_OK


def _cmd_predict(args):
    model = load_model(args.model)
    X, names = load_data(args.data, header=args.header)
    _check_feature_names(model, names, args.data)
    if args.out is not None:
        _check_writable(args.out, "output file")
    _start_tensorflow()
    with _names_checked():
        labels = model.predict(X)
    text = "\n".join(str(label) for label in labels) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        _report_written(f"{len(labels)} cluster ids to {args.out}")
    return EXIT_OK


def _report_written(what):
    # On stderr for every command: stdout may be data (predict's ids).
    print(f"wrote {what}", file=sys.stderr)


def _cmd_plot(args):
    if args.kind == "hits" and args.data is None:
        raise CommandError("--kind hits counts samples per unit; give them with --data DATA.")
    out = _check_image_path(args.out or f"{args.kind}.png")
    model = load_model(args.model)
    X = None
    if args.kind == "hits":
        X, names = load_data(args.data, header=args.header)
        _check_feature_names(model, names, args.data)
    _start_tensorflow()
    _use_file_backend()
    from . import plotting

    # The plot functions take a Pipeline too: --scale models are drawn in the
    # units of the raw data, and --data goes through the scaler first.
    if args.kind == "umatrix":
        ax = plotting.plot_u_matrix(model)
    elif args.kind == "hits":
        with _names_checked():
            ax = plotting.plot_hit_map(model, X)
    else:
        n_features = _som_of(model).n_features_in_
        shown = min(n_features, _MAX_PLANES)
        if shown < n_features:
            print(f"showing the first {shown} of {n_features} features", file=sys.stderr)
        ax = plotting.plot_component_planes(model, range(shown), inverse_transform=_som_of(model) is not model)
    path = _save_figure(ax, out)
    _report_written(str(path))
    return EXIT_OK


_MAX_PLANES = 36


# -- parser ----------------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_header_option(parser):
    parser.add_argument(
        "--header",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether the first line of a CSV holds column names (auto: when it is not all numbers)",
    )


def build_parser():
    """The ``argparse`` parser of the ``sksom`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser with the sub-commands ``demo``, ``fit``, ``predict``, ``plot``.
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sksom",
        description="Self-organizing maps from the command line: train, predict, plot.",
        epilog="Exit status: 0 success, 2 bad usage or input, 1 unexpected error.",
    )
    parser.add_argument("--version", action="version", version=f"sksom {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo", help="train on built-in data, write PNG figures, print metrics",
        description="Train maps on the digits and on random RGB colours; write figures and print metrics.",
    )
    demo.add_argument("--out", default="sksom_demo", help="folder for the figures (default: sksom_demo)")
    demo.add_argument("--max-iter", type=_positive_int, default=15, help="epochs per map (default: 15)")
    demo.add_argument("--verbose", action="count", default=0, help="print one line per epoch")
    demo.set_defaults(func=_cmd_demo)

    fit = commands.add_parser(
        "fit", help="train a map on a CSV/TSV/NPY file and save it",
        description="Train a SOMClusterer on DATA and save it with joblib.",
    )
    fit.add_argument("data", metavar="DATA", help="samples as rows: .csv, .tsv or .npy")
    fit.add_argument("--map-size", type=parse_map_size, default="auto",
                     help="ROWSxCOLUMNS such as 20x20, or auto (default)")
    fit.add_argument("--topology", choices=("rectangular", "hexagonal"), default="rectangular")
    fit.add_argument("--periodic", action="store_true", help="wrap the map around its edges (a torus)")
    fit.add_argument("--neighborhood", default="gaussian",
                     choices=("gaussian", "bubble", "triangle", "cut_gaussian", "mexican_hat"))
    fit.add_argument("--algorithm", choices=("batch", "online", "minibatch"), default="batch")
    fit.add_argument("--max-iter", type=_positive_int, default=20, help="epochs (default: 20)")
    fit.add_argument("--n-clusters", type=_positive_int, default=None,
                     help="group the units into this many clusters; predict then returns them")
    fit.add_argument("--scale", action="store_true",
                     help="standardise each column first (saves a Pipeline: StandardScaler + map)")
    fit.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    fit.add_argument("--device", default=None, help="TensorFlow device: cpu, gpu, /GPU:1 (default: automatic)")
    fit.add_argument("--strategy", choices=("mirrored", "multi_worker"), default=None,
                     help="distribute the batch map over all local GPUs (mirrored) or machines (multi_worker)")
    fit.add_argument("--out", default="model.joblib", help="where to save the model (default: model.joblib)")
    fit.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_header_option(fit)
    fit.set_defaults(func=_cmd_fit)

    predict = commands.add_parser(
        "predict", help="cluster id of each row of a data file",
        description="Print the cluster id of each row of DATA, one per line.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model saved by 'sksom fit'")
    predict.add_argument("data", metavar="DATA", help="samples as rows: .csv, .tsv or .npy")
    predict.add_argument("--out", default=None, help="write the ids to this file instead of stdout")
    _add_header_option(predict)
    predict.set_defaults(func=_cmd_predict)

    plot = commands.add_parser(
        "plot", help="draw a fitted map into a PNG (or PDF, SVG) file",
        description="Draw the U-matrix, the hit map or the component planes of a saved model.",
    )
    plot.add_argument("model", metavar="MODEL", help="a model saved by 'sksom fit'")
    plot.add_argument("--kind", choices=("umatrix", "hits", "components"), default="umatrix")
    plot.add_argument("--data", default=None, help="samples to count, for --kind hits")
    plot.add_argument("--out", default=None, help="image file (default: KIND.png)")
    _add_header_option(plot)
    plot.set_defaults(func=_cmd_plot)
    return parser


def _start_tensorflow():
    """Import TensorFlow (quietly unless asked for logs, see ``sksom._engine.device``)."""
    from . import _engine

    _engine.available_devices()


class _PipeGuard:
    """Standard output that goes quiet, instead of raising, once its reader has gone.

    ``sksom fit ... | head -1`` closes the pipe after one line: the command
    still finishes its work (the model is saved) and exits without a
    BrokenPipeError traceback.
    """

    def __init__(self, stream):
        self._stream = stream
        self._closed = False

    def _silence(self):
        # Further writes, and Python's flush at exit, go to /dev/null.
        self._closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text):
        if self._closed:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self):
        if self._closed:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _quiet_broken_pipe():
    saved = sys.stdout
    sys.stdout = _PipeGuard(saved)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout = saved


def main(argv=None):
    """Run the ``sksom`` command line and return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 for bad usage or input, 1 for an unexpected error.
    """
    started = time.perf_counter()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    args.started = started
    try:
        with _quiet_broken_pipe():
            return args.func(args)
    except CommandError as exc:
        print(f"sksom {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError) as exc:
        # The estimator's own checks (map size, feature count, ...) speak the
        # user's language already: report them as bad input.
        print(f"sksom {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 128 + 2
    except Exception:  # noqa: BLE001 -- anything else is a bug: show where
        traceback.print_exc()
        print(f"sksom {args.command}: unexpected error (please report it)", file=sys.stderr)
        return EXIT_UNEXPECTED
