"""Quoting: the desk asks many carriers at once and compares their answers."""
