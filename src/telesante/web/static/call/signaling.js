// The call's socket: one-time join token, then reconnection with the rejoin token the server hands over.

export class Signaling {
  constructor(socketPath, fetchToken, handlers) {
    this.socketPath = socketPath; // the act's socket, e.g. /ws/call/<appointment id>
    this.fetchToken = fetchToken; // null for a guest: only the link's token, then rejoin tokens
    this.handlers = handlers; // {message(m), status(text), closed(reason)}
    this.rejoin = null;
    this.firstToken = null;
    this.attempts = 0;
    this.finished = false;
    this.ws = null;
  }

  async connect() {
    let token = this.rejoin || this.firstToken;
    this.rejoin = null;
    this.firstToken = null;
    if (!token && this.fetchToken) token = await this.fetchToken();
    if (!token) {
      this.finish("Lien d'appel invalide ou déjà utilisé.");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}${this.socketPath}?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "welcome") {
        this.rejoin = message.rejoin;
        if (this.attempts > 0) this.send({ type: "incident", kind: "reconnection", detail: `tentative ${this.attempts}` });
        this.attempts = 0;
      }
      this.handlers.message(message);
    };
    ws.onclose = (event) => this.closed(event);
  }

  closed(event) {
    if (this.finished) return;
    if (event.code === 1000) return this.finish("L'appel est terminé.");
    if (event.code === 4000) return this.finish("Vous avez rejoint l'appel depuis une autre fenêtre.");
    if (event.code === 1008 && !this.fetchToken && !this.rejoin) return this.finish(event.reason || "Accès refusé.");
    this.attempts += 1;
    if (this.attempts > 8) return this.finish("Connexion perdue. Rechargez la page pour revenir dans l'appel.");
    this.handlers.status("Connexion perdue, reconnexion…");
    const delay = Math.min(500 * 2 ** (this.attempts - 1), 8000);
    setTimeout(() => this.connect().catch(() => this.closed({ code: 1006 })), delay);
  }

  finish(reason) {
    this.finished = true;
    this.handlers.closed(reason);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  leave() {
    this.finished = true;
    if (this.ws) this.ws.close(1000);
  }
}
