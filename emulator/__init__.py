"""Local HTTPS emulator of the Azure Resource Manager APIs the factory calls."""
