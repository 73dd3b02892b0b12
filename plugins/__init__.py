"""Built-in plugins: carriers (sandbox_carrier, http_carrier and its simulator) and gateways
(payment_sandbox). Each is found and registered by app/carriers/registry.py exactly like a plugin
installed from outside, and imports only its contract and `rules/`."""
