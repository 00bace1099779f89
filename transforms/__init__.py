"""winfix rules: one module per rule, named ``win<NNN>_<slug>.py``.

Each module's docstring is the rule's documentation (``winfix explain``) and it
defines ``RULE``. Modules import only the rules contract (``winfix.rules``), the
toolkit (``winfix.toolkit``: OS labels, kind predicates, set/delete fixes, volume
walks) and the layers below them (views, tree, model, the Windows path and field
facts), never the registry, the engine or the CLI (tests/test_rules_toolkit.py
checks it). Installed wheels carry this folder as ``winfix.transforms``.
"""
