"""custody: the process between local jails and federal immigration authorities, under cited, dated law."""

__version__ = "0.1.0"
