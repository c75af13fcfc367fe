"""The version of sslgap, in a module of its own that anything may import (it imports nothing)."""

__version__ = '0.1.0'
