"""The inter-agency exchange: versioned messages in CloudEvents envelopes, a transactional outbox, an
idempotent inbox, in-process and NATS JetStream transports, durable timers and dead letters."""
