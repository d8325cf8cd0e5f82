"""The receiver's data shapes: the Alertmanager payload that arrives, the incident
snapshot that is stored and served, the notification a channel sends, and the actor
an API action is audited as."""
