"""sksom: self-organizing maps for scikit-learn, computed with TensorFlow."""

from ._gas import GrowingNeuralGas, NeuralGas
from ._som import SOMClusterer

__version__ = "0.1.0"

__all__ = ["GrowingNeuralGas", "NeuralGas", "SOMClusterer", "__version__"]
