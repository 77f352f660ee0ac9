"""Package layout only; metadata lives in pyproject.toml.

kernels/ sits at the repository's top level (docs/architecture.md#library-layering) and
installs as lang1core.kernels, which pyproject.toml alone cannot express next to package
discovery under src/.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages("src") + ["lang1core.kernels"],
    package_dir={"": "src", "lang1core.kernels": "kernels"},
)
