"""Simulated agents for the sandbox and the demo city."""
