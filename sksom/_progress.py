"""Per-epoch progress reports for ``verbose`` training."""

import shutil
import sys

_BAR_WIDTH = 12


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def report_epoch(name, epoch, n_epochs, radius, quantization_error, elapsed, *, last, stream=None, label="radius"):
    """Write the progress of one training epoch.

    On a terminal the epochs of one call share a single line, redrawn as a
    progress bar and ended by ``last``; elsewhere (a file, a pipe, a notebook
    capture) each epoch gets its own line, so logs stay readable.

    Parameters
    ----------
    name : str
        Prefix, usually the estimator's class name.
    epoch : int
        Epochs completed, counting from 1.
    n_epochs : int
        Epochs planned in total (``max_iter``).
    radius : float
        Neighbourhood radius of the epoch.
    quantization_error : float
        Mean distance from the samples to their best-matching unit.
    elapsed : float
        Seconds since the call started (cumulative, shown as ``elapsed``).
    last : bool
        Whether this is the last epoch of the call.
    stream : file-like, default=None
        Where to write; ``None`` means ``sys.stdout`` at call time.
    label : str, default="radius"
        Name printed before ``radius``, for maps whose schedule is not a
        radius (the neural gas's lambda, the growing gas's unit count).
    """
    stream = sys.stdout if stream is None else stream
    # The time is cumulative since the call started, hence "elapsed".
    if _is_terminal(stream):
        done = min(_BAR_WIDTH, round(_BAR_WIDTH * epoch / max(n_epochs, 1)))
        bar = "#" * done + "." * (_BAR_WIDTH - done)
        # Fit the line to the terminal (it must never wrap, which breaks
        # "\r"): the longest wording that fits, shorter labels on narrow ones.
        width = max(shutil.get_terminal_size().columns - 1, 20)
        wordings = (
            f"{name} [{bar}] {epoch}/{n_epochs}  quantization error {quantization_error:.4g}  "
            f"{label} {radius:.3g}  elapsed {elapsed:.2f}s",
            f"{name} [{bar}] {epoch}/{n_epochs}  QE {quantization_error:.4g}  {label} {radius:.3g}  elapsed {elapsed:.1f}s",
            f"[{bar}] {epoch}/{n_epochs} QE {quantization_error:.4g} r {radius:.3g} elapsed {elapsed:.1f}s",
            f"{epoch}/{n_epochs} QE {quantization_error:.4g} elapsed {elapsed:.0f}s",
        )
        line = next((text for text in wordings if len(text) <= width), wordings[-1][:width])
        # Padded so that a shorter line fully covers the previous one.
        stream.write(f"\r{line:<{width}}" + ("\n" if last else ""))
    else:
        stream.write(
            f"[{name}] epoch {epoch}/{n_epochs}  quantization error {quantization_error:.4g}  "
            f"{label} {radius:.3g}  elapsed {elapsed:.2f}s\n"
        )
    stream.flush()
