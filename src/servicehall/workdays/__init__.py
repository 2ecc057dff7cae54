"""The working-day calendar: China's statutory holidays and 调休 working weekends, plus local overrides."""
