"""One module per ``assistant`` subcommand.

Each exposes ``add_parser(subparsers, common)`` that registers its arguments and
sets ``func(args, config) -> exit code``. Imports of models and heavy libraries
stay inside ``func`` so ``assistant --help`` is instant.
"""
