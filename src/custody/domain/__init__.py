"""The pure core: types, clocks, divisions, state machines and events. No I/O lives here."""
