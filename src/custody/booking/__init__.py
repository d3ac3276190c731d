"""Booking: the arrest as the jail records it, and the person's custody until they leave it."""
