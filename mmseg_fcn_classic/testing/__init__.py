"""Test and demo support shipped with the package: synthetic data in the real
on-disk formats, the plain baseline network, narrow model configs."""
