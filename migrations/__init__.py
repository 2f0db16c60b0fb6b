"""Numbered SQL migrations (NNNN_name.sql), applied in order by `compass migrate`.

This folder is installed as the package `compass_migrations` (see setup.py) so that a wheel and the
image carry the SQL; the Python file only makes it a package.
"""
