"""The package's version, in a module of its own: a module that records it (ddr.eval.environment) imports
it from here, not from the `ddr` package, whose ddr.evaluate imports the evaluation (no import cycle)."""

__version__ = "0.1.0"
