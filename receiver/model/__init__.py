"""The receiver's data shapes: the Alertmanager payload that arrives, the incident
snapshot that is stored and served, and the notification a channel sends."""
