"""Shared pieces of the console: base views with export, security headers, templates."""
