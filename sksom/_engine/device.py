"""Devices and ``tf.distribute`` strategies, shared by every engine module."""

import contextlib
import os
import re
import sys
import tempfile

from .._data import blas_controller

# TensorFlow's start-up notices on a machine without a GPU: informational, or
# an expected CUDA failure, yet printed from C++ before its logging is set up
# (so TF_CPP_MIN_LOG_LEVEL does not hide them), once per process, which
# GridSearchCV's workers multiply. They look like failures to a new user.
_START_UP_NOISE = re.compile(
    "|".join(
        [
            r"All log messages before absl::InitializeLog\(\) is called",
            r"Could not find cuda drivers",
            r"oneDNN custom operations are on",
            r"TF_ENABLE_ONEDNN_OPTS",
            r"This TensorFlow binary is optimized to use available CPU instructions",
            r"To enable the following instructions",
            r"rebuild TensorFlow with the appropriate compiler flags",
            r"Unable to register cu(DNN|FFT|BLAS) factory",
            r"computation placer already registered",
            r"TF-TRT Warning: Could not find TensorRT",
        ]
    )
)
# cuInit failing is an error worth showing, unless there is no CUDA driver
# at all (then it only says that this machine has no GPU).
_NO_GPU_CUINIT = re.compile(r"failed call to cuInit")


def _filter_start_up_noise(text):
    """The lines of ``text`` that are not TensorFlow's start-up noise."""
    no_driver = "Could not find cuda drivers" in text or not os.path.exists("/dev/nvidiactl")
    return [
        line for line in text.splitlines(keepends=True)
        if not (_START_UP_NOISE.search(line) or (no_driver and _NO_GPU_CUINIT.search(line)))
    ]


@contextlib.contextmanager
def _quiet_native_stderr():
    """Capture what C++ writes to file descriptor 2; pass on all but the start-up noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to quieten
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = _filter_start_up_noise(captured.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


# TensorFlow's x86 wheels leave their oneDNN kernels off on CPUs without
# AVX-512 (most AMD and older Intel ones) and fall back to Eigen, whose float32
# matrix product is two to three times slower there; the distances to the
# units, most of a fit, are such products. Turn them on unless the user
# chose (TF_ENABLE_ONEDNN_OPTS=0 keeps TensorFlow's default), and only when
# this import is the one that loads TensorFlow: the switch is read then.
ONEDNN_DEFAULTED = "TF_ENABLE_ONEDNN_OPTS" not in os.environ and "tensorflow" not in sys.modules
if ONEDNN_DEFAULTED:
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"

# The BLAS controller of small fits (see sksom._data.one_blas_thread) finds
# the loaded libraries by reading every library path: a few dozen now, a few
# hundred once TensorFlow is loaded.
blas_controller()

# Quiet unless the user set TF_CPP_MIN_LOG_LEVEL (to "0" to see everything).
_QUIET = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
if _QUIET:
    # TensorFlow's own informational and warning logs stay hidden; errors show.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"

with _quiet_native_stderr() if _QUIET else contextlib.nullcontext():
    import tensorflow as tf

    # Finding the devices starts TensorFlow's runtime, which probes CUDA (the
    # cuInit line). Not in a process configured for multi-worker training
    # (TF_CONFIG set): its strategy must be created before the runtime starts.
    if not os.environ.get("TF_CONFIG"):
        tf.config.list_logical_devices()


# -- devices -----------------------------------------------------------------


def available_devices():
    """Names of the logical devices TensorFlow sees, e.g. ``/device:CPU:0``."""
    return [d.name for d in tf.config.list_logical_devices()]


def resolve_device(device):
    """Turn the estimator's ``device`` parameter into a TensorFlow device name.

    ``None`` leaves placement to TensorFlow (a GPU when one is visible).
    ``"cpu"`` and ``"gpu"`` mean the first device of that type; any other
    string is a TensorFlow device name such as ``"/GPU:1"``. A device that is
    not present raises ``ValueError`` listing the devices that are.
    """
    if device is None:
        return None
    name = {"cpu": "/CPU:0", "gpu": "/GPU:0"}.get(device.lower(), device)
    try:
        spec = tf.DeviceSpec.from_string(name)
    except ValueError as exc:
        raise ValueError(f"device={device!r} is not a TensorFlow device name.") from exc
    wanted_type = (spec.device_type or "").upper()
    wanted_index = spec.device_index or 0
    for dev in tf.config.list_logical_devices():
        dev_spec = tf.DeviceSpec.from_string(dev.name)
        if dev_spec.device_type == wanted_type and dev_spec.device_index == wanted_index:
            return name
    raise ValueError(
        f"device={device!r} was asked for, but TensorFlow sees only "
        f"{available_devices()}. Use device=None to let TensorFlow choose."
    )


def on_gpu(device):
    """Whether computations with this resolved ``device`` run on a GPU."""
    if device is None:
        return bool(tf.config.list_logical_devices("GPU"))
    return tf.DeviceSpec.from_string(device).device_type == "GPU"


def resident_chunks(chunks, device=None):
    """Copy ``(X, weights)`` chunks to the device once, for reuse every epoch.

    The batch map reads the whole data each epoch; on a GPU, sending it over
    the bus every time costs more than the epoch's arithmetic.
    """
    with scope(device):
        return [(tf.constant(X), tf.constant(weights)) for X, weights in chunks]


def scope(device):
    return tf.device(device) if device is not None else contextlib.nullcontext()


def free_device_memory(device=None):
    """Bytes free on the GPU that ``device`` computes on, or None (CPU, or unknown).

    The device's memory limit (as TensorFlow's allocator sees it) less what
    TensorFlow holds on it now.
    """
    if not on_gpu(device):
        return None
    name = "GPU:0" if device is None else tf.DeviceSpec.from_string(device).to_string().replace("/device:", "")
    try:
        from tensorflow.python.client import device_lib

        limits = {d.name.replace("/device:", "").upper(): d.memory_limit for d in device_lib.list_local_devices()}
        total = limits.get(name.upper().lstrip("/"))
        used = tf.config.experimental.get_memory_info(name)["current"]
    except (ImportError, ValueError, KeyError, AttributeError, RuntimeError):
        return None
    return None if not total else max(0, int(total) - int(used))



# -- distribution --------------------------------------------------------------


def make_strategy(spec):
    """Build the ``tf.distribute`` strategy named by the estimator's parameter.

    ``"mirrored"``: :class:`tf.distribute.MirroredStrategy` over all local GPUs
    (the CPU when there is none). ``"multi_worker"``:
    :class:`tf.distribute.MultiWorkerMirroredStrategy`, configured by the
    ``TF_CONFIG`` environment variable. A callable is called with no argument
    and must return a strategy.
    """
    if callable(spec):
        strategy = spec()
    elif spec == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif spec == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        raise ValueError(f"strategy={spec!r} is not 'mirrored', 'multi_worker' or a callable.")
    if not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"The strategy factory returned {type(strategy).__name__}, not a tf.distribute.Strategy.")
    return strategy
