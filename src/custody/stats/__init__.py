"""Statistics and evidence: public data with provenance, measures, the seed's claims, charts."""
