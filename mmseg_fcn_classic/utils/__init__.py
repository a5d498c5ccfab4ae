"""Process-level utilities: CPU distributed set-up, runtime settings, config package."""
