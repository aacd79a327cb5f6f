"""Packaging beyond setup.cfg: the shipped models become package data.

``saved_models/`` stays the repository folder that the training scripts write
to; a wheel carries its model and vocabulary files as the package
``keras_attn._shipped`` (``keras_attn._assets`` finds them there, or in the
checkout). The training scripts in that folder stay out of the wheel.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SHIPPED = "keras_attn._shipped"


class _BuildPy(build_py):
    def find_package_modules(self, package, package_dir):
        if package == SHIPPED:  # make_*.py scripts: they write saved_models/, users load its files
            return []
        return super().find_package_modules(package, package_dir)


setup(
    packages=find_packages(include=["keras_attn", "keras_attn.*"]) + [SHIPPED],
    package_dir={SHIPPED: "saved_models"},
    package_data={SHIPPED: ["*.keras", "*.h5", "*.json", "*_savedmodel/**/*"]},
    cmdclass={"build_py": _BuildPy},
)
