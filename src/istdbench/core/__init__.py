"""The suite's core: data types, method base classes and registry, configs, errors, file helpers.

Everything else builds on these modules. They import nothing from the other
subpackages, except that the registry imports `istdbench.methods` on first use
so that the built-in methods are registered.
"""
