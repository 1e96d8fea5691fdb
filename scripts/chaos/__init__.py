"""The TokenCentral chaos suite (driven by scripts/chaos.py): private processes, observers, scenarios, report."""
