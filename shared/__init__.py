"""The domain and the adapters, importable without Azure Functions."""
