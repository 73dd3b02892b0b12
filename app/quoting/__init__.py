"""Quoting: the desk asks many carriers at once and compares their answers; pricing by the product documents."""
