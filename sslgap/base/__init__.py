"""What every wing may use: the plug-in registries, the declared hyper-parameters, crash-safe files, the JAX platform and the small command-line helpers."""
