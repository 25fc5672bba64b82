"""lifecheck: a static checker for QOM device lifetime bugs in QEMU."""
__version__ = "0.1.0"
