"""Generated sequences for the sequence-map examples, tests and benchmarks."""

import numpy as np


def mackey_glass(n_steps, *, tau=17, beta=0.2, gamma=0.1, n=10, dt=1.0, x0=1.2, discard=500):
    """The Mackey-Glass series ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)``.

    Integrated with Euler steps of ``dt`` from a constant history ``x0``; the
    first ``discard`` samples (the transient) are dropped. With ``tau=17`` the
    series is chaotic.

    Returns
    -------
    x : ndarray of shape (n_steps,)
    """
    delay = int(round(tau / dt))
    total = n_steps + discard
    x = np.empty(total + delay)
    x[: delay + 1] = x0
    for t in range(delay, total + delay - 1):
        lagged = x[t - delay]
        x[t + 1] = x[t] + dt * (beta * lagged / (1.0 + lagged**n) - gamma * x[t])
    return x[delay + discard :]


def markov_chain(n_steps, seed=0):
    """The three-state chain of the sequence-map examples, one-hot coded.

    a -> b or c (1/2 each), b -> a, c -> b or c (1/2 each); starts in a.

    Returns
    -------
    X : ndarray of shape (n_steps, 3)
        One-hot rows in the order a, b, c.
    """
    rng = np.random.default_rng(seed)
    coin = rng.random(n_steps) < 0.5
    states = np.empty(n_steps, dtype=np.intp)
    states[0] = 0
    for t in range(1, n_steps):
        states[t] = 0 if states[t - 1] == 1 else (1 if coin[t] else 2)
    return np.eye(3)[states]
