"""Names from the default scenario used by the emulator tests."""

from __future__ import annotations

SUB1 = "3f2a9c41-5b7e-4d08-9a61-2c4e8b7d1f05"
SUB2 = "8c5d1e72-9f30-4a6b-b1d4-7e2f6a9c3b18"
FACTORY_RG, FACTORY_LAB = "rg-imagefactory", "factory-lab"
ALPHA_RG, ALPHA_LAB = "rg-devtest-weu", "team-alpha"
BRAVO_RG, BRAVO_LAB = "rg-devtest-eus", "team-bravo"
