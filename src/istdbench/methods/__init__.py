"""Built-in detection methods: every public module here registers one method on import.

`istdbench.core.registry` imports them: one by one as names are asked for, or all
of them when the whole registry is listed.
"""
