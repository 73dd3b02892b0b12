"""Fees: the commission and other fees a dealer earns from carriers, by their fee agreements."""
