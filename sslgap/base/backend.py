"""The JAX platform a sweep runs on, started once: a platform JAX cannot start (JAX_PLATFORMS=cuda
on a machine without a GPU, or a name it does not know) is one BackendError that names it."""

import os

from sslgap.errors import BackendError


def local_devices():
  """jax.local_devices(), or BackendError naming the platform that would not start."""
  import jax  # noqa: F401 - imported here so that numpy-only tools never start a backend
  try:
    return jax.local_devices()
  except Exception as e:  # noqa: BLE001 - JAX raises RuntimeError, or a bare AssertionError for cuda
    platforms = os.environ.get('JAX_PLATFORMS') or jax.config.jax_platforms or ''
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    reason = lines[0] if lines else 'this jaxlib has no such backend, or no such device is visible'
    raise BackendError(f'JAX cannot start JAX_PLATFORMS={platforms!r}: {reason}. Unset JAX_PLATFORMS (or set it to '
                       "cpu) on a machine without that device; for a GPU install the CUDA build: "
                       "pip install -e '.[cuda]'") from None


def jax_version():
  import jax
  return jax.__version__


def platform():
  """'cpu', 'gpu' or 'tpu': the platform of this process's devices (BackendError if it cannot start)."""
  return local_devices()[0].platform
