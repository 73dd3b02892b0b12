"""Payment gateways as plugins: the contract (contract.py) and the gateway look-up (gateways.py).
The Payment model and the pay step belong to quoting/orders."""
