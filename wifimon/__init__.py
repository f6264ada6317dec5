"""wifimon: SNMP monitoring of public city Wi-Fi in one vendor-neutral schema."""

__version__ = "0.1.0"
