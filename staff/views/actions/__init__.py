"""One module per business step of an order; ``OrderActionView`` in ``_base``."""
