// A call's room, whatever the act: the socket and the mesh wired together. The page decides what
// to show (tiles, chat, buttons): `view` hears every message after the room has handled its part.

import { Mesh } from "./peers.js";
import { Signaling } from "./signaling.js";

export class Room {
  // view: {say(text), remote(peer, stream, {track, slot}), gone(id), quality(worst, stats), message(m, peer),
  //        closed(reason), channel(peer, dataChannel) when the act asks for a dataChannel}
  // hook: window.telesanteCall, read by the browser tests and the benchmark.
  // videoSlots, dataChannel: what the act's peer connections carry besides audio and a camera (peers.js).
  constructor({ stream, socket, fetchToken, view, hook, videoSlots, dataChannel }) {
    this.view = view;
    this.hook = hook;
    this.names = new Map(); // leg id -> {id, name, role}
    this.mesh = new Mesh({
      stream,
      send: (message) => this.send(message),
      onRemote: view.remote,
      onGone: view.gone,
      onQuality: view.quality || (() => {}),
      videoSlots,
      dataChannel,
      onChannel: view.channel,
    });
    this.signaling = new Signaling(socket, fetchToken, {
      message: (m) => this.handle(m),
      status: view.say,
      closed: (reason) => hook.state !== "ended" && view.closed(reason),
    });
    hook.peers = () => this.mesh.report();
    hook.sending = () => this.mesh.sending();
  }

  // `firstToken`: the one the page already holds (a guest's link, or one fetched while the camera started).
  async connect(firstToken) {
    this.signaling.firstToken = firstToken;
    await this.signaling.connect();
  }

  handle(m) {
    if (m.type === "welcome") {
      this.mesh.configure(m.ice);
      for (const peer of m.peers) this.names.set(peer.id, peer);
      this.hook.state = "joined";
      this.hook.me = m.you;
    } else if (m.type === "joined") {
      this.names.set(m.peer.id, m.peer);
      this.mesh.add(m.peer, true); // whoever was here first offers to the newcomer
    } else if (m.type === "left") {
      this.mesh.remove(m.from);
    } else if (m.type === "signal") {
      this.mesh.receive(m.from, m.data, this.names.get(m.from)).catch((e) => console.error(e));
    }
    this.view.message(m, this.names.get(m.from));
  }

  send(message) {
    this.signaling.send(message);
  }

  leave() {
    this.signaling.leave();
    this.close();
  }

  close() {
    this.hook.state = "ended";
    this.mesh.close();
  }
}
