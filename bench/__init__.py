"""The performance benchmark (PERFORMANCE.md): benchmark settings, the data loader and the
runner. Installed only by bench.settings, never in production."""
