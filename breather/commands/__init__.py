"""One module per ``breather`` sub-command: ``HELP``, ``add_arguments(parser)``, ``run(args, paths)``."""
