"""Scenarios and simulation: the seed article's three cases, replayable through the whole process."""
