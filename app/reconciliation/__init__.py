"""Reconciliation: carriers' fee statements read through mapping documents, matched to policies."""
