"""The TensorFlow engine: the one place behind the estimators that imports TensorFlow.

(:mod:`sksom.keras`, which users import explicitly, is the other one.)

Modules: :mod:`.device` (devices, placement, ``tf.distribute`` strategies)
and one module of stateless kernels per family of maps (:mod:`.som`,
:mod:`.gas`, :mod:`.sequence`, :mod:`.plsom`). Every
public function takes NumPy arrays (or iterables of NumPy chunks) and returns
NumPy arrays; no TensorFlow object is handed back to the caller. ``import
sksom`` never imports this package: estimators import it on first use.
"""

from .device import (  # noqa: F401
    available_devices,
    free_device_memory,
    make_strategy,
    on_gpu,
    resident_chunks,
    resolve_device,
    scope,
)
from .som import (  # noqa: F401
    batch_epoch,
    best_matching_units,
    distances,
    export_saved_model,
    minibatch_epoch,
    online_epoch,
)
from .gas import (  # noqa: F401
    MAX_CAPACITY,
    SIGNAL_CHUNK,
    gas_capacity,
    growing_neural_gas,
    neural_gas_batch_epoch,
    neural_gas_batch_epochs,
    neural_gas_online,
    rank_cutoff,
)
from .sequence import predict_blocks, train_blocks  # noqa: F401
from .plsom import plsom_epoch  # noqa: F401
