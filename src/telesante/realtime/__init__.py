"""Live events pushed to browsers over WebSocket, through an in-process or Redis bus."""
