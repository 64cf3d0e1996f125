"""Deep SOM against the plain SOM, PCA + SOM and k-means, on digits and MNIST.

Every method gives 64 clusters: an 8 x 8 map, or k-means with 64 clusters as
a reference without a map. For each dataset and seed it prints purity, NMI,
quantization and topographic error and the fit time, then the mean and the
standard deviation over the seeds.

* purity: sum over clusters of the size of the majority class, over n;
* NMI: normalised mutual information between clusters and classes;
* QE, TE: quantization and topographic error of the map, in the space the map
  lives in (pixels, PCA components, latent features), so QE is comparable
  only within a method; k-means has no lattice, hence no TE.

MNIST is the 10,000-image test set read from ``../shared/data/mnist_test10k.npz``
(relative to the repository); without it the MNIST rows are skipped.

Run::

    python benchmarks/bench_deep.py                  # digits and MNIST, 3 seeds
    python benchmarks/bench_deep.py --datasets digits --seeds 0 1
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import normalized_mutual_info_score
from sklearn.pipeline import make_pipeline

from sksom import SOMClusterer

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAP_SIZE = (8, 8)

# The deep SOM of each dataset: the estimator's defaults (DESOM's 500-500-2000
# autoencoder, the neighbour term, som_weight=0.3) with 30 pretraining epochs
# on MNIST; a smaller network for the 1,797 digits.
DEEP_PARAMS = {
    "digits": dict(hidden_units=(256, 128), latent_dim=10, pretrain_epochs=100, max_iter=50, batch_size=128),
    "mnist": dict(hidden_units=(500, 500, 2000), latent_dim=10, pretrain_epochs=30, max_iter=30, batch_size=256),
}


def load(name):
    """Data scaled to [0, 1] and labels, or None when the file is absent."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32), y
    from sksom.datasets import load_mnist_local

    try:
        X, y = load_mnist_local(DATA_DIR / "mnist_test10k.npz")
    except FileNotFoundError:
        return None
    return (X / 255.0).astype(np.float32), y


def purity(y, labels):
    return sum(np.bincount(y[labels == c]).max() for c in np.unique(labels)) / len(y)


def run_som(X, seed):
    som = SOMClusterer(MAP_SIZE, random_state=seed).fit(X)
    return som.labels_, som.quantization_error_, som.topographic_error_


def run_pca_som(X, seed):
    pipe = make_pipeline(PCA(n_components=30, random_state=seed), SOMClusterer(MAP_SIZE, random_state=seed)).fit(X)
    som = pipe[-1]
    return som.labels_, som.quantization_error_, som.topographic_error_


def run_deep(X, seed, dataset):
    from sksom.keras import DeepSOMClusterer

    model = DeepSOMClusterer(MAP_SIZE, random_state=seed, **DEEP_PARAMS[dataset]).fit(X)
    return model.labels_, model.quantization_error_, model.topographic_error_, model.feature_variance_retained_


def run_kmeans(X, seed):
    km = KMeans(n_clusters=64, n_init=1, random_state=seed).fit(X)
    qe = float(np.sqrt(((X - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1)).mean())
    return km.labels_, qe, float("nan")


METHODS = ["SOM (pixels)", "PCA(30) -> SOM", "deep SOM", "k-means (64)"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", type=int, default=list(range(len(METHODS))),
                        help="indices into " + ", ".join(f"{i}: {m}" for i, m in enumerate(METHODS)))
    args = parser.parse_args()

    summary = []
    for dataset in args.datasets:
        data = load(dataset)
        if data is None:
            print(f"{dataset}: skipped: not present ({DATA_DIR / 'mnist_test10k.npz'})")
            continue
        X, y = data
        print(f"\n{dataset}: {X.shape[0]} samples, {X.shape[1]} features, map {MAP_SIZE}, seeds {args.seeds}")
        print(f"{'method':<16}{'seed':>5}{'purity':>8}{'NMI':>8}{'QE':>9}{'TE':>7}{'time s':>8}")
        for index in args.methods:
            method = METHODS[index]
            rows = []
            for seed in args.seeds:
                start = time.perf_counter()
                extra = ""
                if index == 0:
                    labels, qe, te = run_som(X, seed)
                elif index == 1:
                    labels, qe, te = run_pca_som(X, seed)
                elif index == 2:
                    labels, qe, te, kept = run_deep(X, seed, dataset)
                    extra = f"  variance kept {kept:.2f}"
                else:
                    labels, qe, te = run_kmeans(X, seed)
                seconds = time.perf_counter() - start
                row = (purity(y, labels), normalized_mutual_info_score(y, labels), qe, te, seconds)
                rows.append(row)
                print(f"{method:<16}{seed:>5}{row[0]:>8.3f}{row[1]:>8.3f}{row[2]:>9.3f}{row[3]:>7.3f}{row[4]:>8.1f}{extra}",
                      flush=True)
            rows = np.array(rows)
            summary.append((dataset, method, rows.mean(axis=0), rows.std(axis=0)))

    print("\nmean (std) over seeds")
    print(f"{'dataset':<8}{'method':<16}{'purity':>15}{'NMI':>15}{'QE':>15}{'TE':>15}{'time s':>10}")
    for dataset, method, mean, std in summary:
        cells = "".join(f"{m:>8.3f} ({s:.3f})" for m, s in zip(mean[:4], std[:4]))
        print(f"{dataset:<8}{method:<16}{cells}{mean[4]:>10.1f}")


if __name__ == "__main__":
    main()
