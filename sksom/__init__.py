"""sksom: self-organizing maps for scikit-learn, computed with TensorFlow."""

from ._gas import GrowingNeuralGas, NeuralGas
from ._sequence import RecursiveSOM
from ._som import SOMClusterer

__version__ = "0.1.0"

__all__ = ["GrowingNeuralGas", "NeuralGas", "RecursiveSOM", "SOMClusterer", "__version__"]
