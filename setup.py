"""The one thing pyproject.toml cannot say: the top-level `migrations/` folder (the design's name for it)
ships inside the wheel as the package `compass_migrations`, so `pip install` and the image carry the SQL.

`[tool.setuptools.packages.find]` cannot rename a folder, and an explicit package list would go stale
whenever a subpackage is added; so the packages are found here and the mapping is added beside them.
Everything else (metadata, dependencies, package data) stays in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        # compass_cli and compass_testing: the packages the import restructuring (issue 9) adds.
        *find_packages(
            include=["compass_worker*", "compass_bot*", "compass_lab*", "compass_cli*", "compass_testing*"]
        ),
        "compass_migrations",
    ],
    package_dir={"compass_migrations": "migrations"},
)
