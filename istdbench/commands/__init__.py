"""Subcommands of the ``istdbench`` CLI; each module adds its commands to `istdbench.cli.main`."""
