"""The hall live (取号叫号): tickets, appointments, calling, displays, counter workstation, visit events."""
