"""The snmpsim variation module of the demo city (copied next to the data
when the city starts; snmpsim would take this file for a module too)."""
