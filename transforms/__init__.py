"""winfix rules: one module per rule, named ``win<NNN>_<slug>.py``.

Each module's docstring is the rule's documentation (``winfix explain``) and it
defines ``RULE``. Modules import only from ``winfix`` (model, rules, resources,
yamltree), never from the CLI or the engine. Installed wheels carry this folder
as ``winfix.transforms``.
"""
