"""Identity: the federal repository and the check of each booking against it.

In this release the check matches person identifiers (FBI number, state id, A-number); the
biometric search of the fingerprints replaces it in a later release behind the same function.
"""
