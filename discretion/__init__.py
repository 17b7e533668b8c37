"""discretion: penalty discretion calculator for Chinese eco-environment enforcement (functional core)."""

__version__ = "0.1.0"
