"""``python -m lifecheck``."""
from .cli import entry

entry()
