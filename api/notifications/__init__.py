"""Customer notifications: an outbox of SMS texts, generated once and sent by a pluggable sender."""
