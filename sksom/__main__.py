"""Entry point of ``python -m sksom`` and of the ``sksom`` console script."""

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
