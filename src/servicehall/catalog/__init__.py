"""The service catalogue (事项库): items, their materials, fees, steps and where they are handled."""
