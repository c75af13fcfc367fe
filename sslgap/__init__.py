"""sslgap: vmapped sweeps for "Less Data, Faster Training" (Liu, Edelman, Goel, Liu, ICML 2026)."""

__version__ = '0.1.0'
