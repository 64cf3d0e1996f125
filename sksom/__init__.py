"""sksom: self-organizing maps for scikit-learn, computed with TensorFlow."""

from ._som import SOMClusterer

__version__ = "0.1.0"

__all__ = ["SOMClusterer", "__version__"]
