"""The rules: a registry keyed by id (registry.py) and one small check function per rule."""
