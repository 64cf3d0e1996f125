"""Devices and ``tf.distribute`` strategies, shared by every engine module."""

import contextlib
import os

# Keep TensorFlow's C++ informational logging out of the user's terminal
# unless they asked for it. (A few lines printed before TensorFlow's logging
# starts, such as the oneDNN notice, are not affected.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402


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


def to_device(array, device=None):
    """``array`` as a tensor on the device, for reuse across calls within a fit."""
    with scope(device):
        return tf.constant(array)


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
