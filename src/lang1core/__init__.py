"""lang1: hospital-operations language models."""
__version__ = "0.1.0"
