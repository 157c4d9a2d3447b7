"""The video call of a téléconsultation: join tokens, signaling, ICE servers and the call page.

Media never crosses the server: browsers connect peer to peer (a mesh of at most four),
through TURN when they must; the server only relays signaling over the realtime bus.
"""
