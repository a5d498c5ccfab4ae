"""Command lines over the package, runnable from an install.

Each module has ``main(argv=None)`` and runs as ``python -m
mmseg_fcn_classic.tools.<name>`` or as the console script ``mmseg-fcn-<name>``;
the repository's ``tools/<name>.py`` run the same ``main``.
"""
