"""Video calls: join tokens, signaling, ICE servers, and the téléconsultation's call page.

Born with the téléconsultation, the layer serves any act: a call is a room key, and the act behind
it (acts.py) says whether it is live, keeps its incidents and ends it (ADR 0012). Media never cross
the server: browsers connect peer to peer (a mesh of at most four), through TURN when they must;
the server only relays signaling over the realtime bus.
"""
