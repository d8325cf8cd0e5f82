"""Signed action links: acknowledge or resolve an incident from the notification itself.

`signing` makes and checks the links (HMAC-SHA256 over incident, action, expiry, nonce,
channel and recipient); `replay` remembers each link's nonce once used, until the link
would have expired anyway. The confirmation page that acts on them is
`receiver.web.actionlink`.
"""
