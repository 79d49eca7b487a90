"""Builds the optional C extension; everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # Float runs of Equal Shares for add1's search (stemmen/budget/_mes_floats.py).
        # Optional: without a C compiler the install still succeeds and add1 runs exactly in
        # Python, only slower.
        Extension(
            "stemmen.budget._mes_floats_c",
            sources=["stemmen/budget/_mes_floats.c"],
            optional=True,
        )
    ]
)
