"""Provider kinds read their callbacks through the contract in base.py."""
