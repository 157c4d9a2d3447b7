// The mesh: one RTCPeerConnection per other participant (at most three).
// Whoever was in the call first offers to a newcomer, so two offers never cross.

import { applyProfile, level, sample } from "./quality.js";

export class Mesh {
  // videoSlots: how many videos an act shows at once (a camera and a dermatoscope: 2); an offer asks
  // for that many even when this side sends fewer. dataChannel: a label, for one channel per peer,
  // negotiated on both sides (same id), so it opens whoever offers; handed to onChannel(peer, channel).
  constructor({ stream, send, onRemote, onGone, onQuality, videoSlots = 1, dataChannel = null, onChannel = () => {} }) {
    this.stream = stream;
    this.send = send;
    this.onRemote = onRemote;
    this.onGone = onGone;
    this.onQuality = onQuality;
    this.videoSlots = videoSlots;
    this.dataChannel = dataChannel;
    this.onChannel = onChannel;
    this.ice = { iceServers: [] };
    this.peers = new Map();
    this.inbox = Promise.resolve();
    this.videoTracks = stream.getVideoTracks(); // what each video slot sends now (a camera may be swapped)
    this.forced = null; // a level to use instead of the measured one: the tests' hook (main.js)
    this.timer = setInterval(() => this.measure(), 2000);
  }

  configure(ice) {
    this.ice = ice;
  }

  add(peer, offerer) {
    this.remove(peer.id);
    const pc = new RTCPeerConnection(this.ice);
    const entry = { peer, pc, offerer, pending: [], stats: null, profile: "good", bad: 0, restarts: 0, offeredAt: 0, awaitingAnswer: false, reportedRelay: false };
    this.peers.set(peer.id, entry);
    let slot = 0;
    for (const track of this.stream.getTracks()) {
      const sender = pc.addTrack(track, this.stream);
      if (track.kind !== "video") continue;
      const current = this.videoTracks[slot++];
      if (current !== undefined && current !== track) sender.replaceTrack(current);
    }
    // Heard but not seen (a regulator with a headset): an offer must still ask for the other's camera(s).
    if (offerer) for (; slot < this.videoSlots; slot++) pc.addTransceiver("video", { direction: "recvonly" });
    if (this.dataChannel) this.onChannel(peer, pc.createDataChannel(this.dataChannel, { negotiated: true, id: 0 }));
    pc.onicecandidate = (e) => e.candidate && this.signal(peer.id, { candidate: e.candidate.toJSON() });
    // slot: which of the other's videos this is (0 their camera, 1 a second source…), in m-line order.
    pc.ontrack = (e) => this.onRemote(peer, e.streams[0] || new MediaStream([e.track]), { track: e.track, slot: slotOf(pc, e.transceiver) });
    pc.oniceconnectionstatechange = () => this.iceChanged(entry);
    if (offerer) this.offer(entry, false);
    return entry;
  }

  async offer(entry, restart) {
    entry.offeredAt = Date.now(); // set before any await: a second restart must see this one
    entry.awaitingAnswer = true;
    const offer = await entry.pc.createOffer(restart ? { iceRestart: true } : {});
    await entry.pc.setLocalDescription(offer);
    this.signal(entry.peer.id, { sdp: entry.pc.localDescription.toJSON() });
  }

  signal(to, data) {
    this.send({ type: "signal", to, data });
  }

  receive(from, data, peerInfo) {
    // One message at a time, in order: a candidate must not overtake the offer it belongs to.
    const handled = this.inbox.then(() => this.handle(from, data, peerInfo));
    this.inbox = handled.catch(() => {});
    return handled;
  }

  async handle(from, data, peerInfo) {
    let entry = this.peers.get(from);
    if (!entry) entry = this.add(peerInfo || { id: from, name: "Participant", role: "" }, false);
    const pc = entry.pc;
    if (data.sdp) {
      await pc.setRemoteDescription(data.sdp);
      if (data.sdp.type === "answer") entry.awaitingAnswer = false;
      if (data.sdp.type === "offer") {
        await pc.setLocalDescription(await pc.createAnswer());
        this.signal(from, { sdp: pc.localDescription.toJSON() });
      }
      for (const candidate of entry.pending.splice(0)) await pc.addIceCandidate(candidate);
    } else if (data.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(data.candidate);
      else entry.pending.push(data.candidate);
    } else if (data.restart && entry.offerer) {
      this.restart(entry);
    }
  }

  iceChanged(entry) {
    const state = entry.pc.iceConnectionState;
    clearTimeout(entry.restartTimer);
    if (state === "failed") this.restart(entry);
    // "disconnected" often heals by itself; restart only if it lasts.
    if (state === "disconnected") entry.restartTimer = setTimeout(() => this.restart(entry), 4000);
  }

  restart(entry) {
    if (!this.peers.has(entry.peer.id) || entry.pc.connectionState === "closed") return;
    // Both sides notice the same drop: while our restart offer awaits its answer, a second offer
    // would cross it and the late answer would break the session. An offer unanswered for 10 s
    // (its answer lost with the socket) no longer blocks.
    if (entry.offerer && entry.awaitingAnswer && Date.now() - entry.offeredAt < 10_000) return;
    entry.restarts += 1;
    this.send({ type: "incident", kind: "ice_restart", detail: `avec ${entry.peer.name}, essai ${entry.restarts}` });
    if (entry.offerer) this.offer(entry, true);
    else this.signal(entry.peer.id, { restart: true }); // the offerer restarts, so offers never cross
  }

  remove(id) {
    const entry = this.peers.get(id);
    if (!entry) return;
    clearTimeout(entry.restartTimer);
    entry.pc.close();
    this.peers.delete(id);
    this.onGone(id);
  }

  // `slot` 0 is the camera (or the screen shared instead); 1… the act's other video sources.
  async replaceVideo(track, slot = 0) {
    this.videoTracks[slot] = track;
    for (const { pc } of this.peers.values()) {
      const sender = videoTransceivers(pc)[slot]?.sender;
      if (sender) await sender.replaceTrack(track);
    }
  }

  async measure() {
    let worst = "unknown";
    const order = ["unknown", "good", "fair", "poor"];
    for (const entry of this.peers.values()) {
      const s = await sample(entry.pc, entry.stats);
      entry.stats = s;
      const now = this.forced || level(s);
      if (order.indexOf(now) > order.indexOf(worst)) worst = now;
      await this.adapt(entry, now);
      if (s.pair?.local === "relay" && this.ice.iceTransportPolicy !== "relay" && !entry.reportedRelay) {
        entry.reportedRelay = true;
        this.send({ type: "incident", kind: "relay_fallback", detail: `relais ${s.pair.protocol} avec ${entry.peer.name}` });
      }
    }
    this.onQuality(worst, [...this.peers.values()].map((e) => e.stats));
  }

  async adapt(entry, now) {
    // Two bad samples in a row before degrading, one good one to come back: no flapping on a blip.
    entry.bad = now === "fair" || now === "poor" ? entry.bad + 1 : 0;
    const target = now === "unknown" ? entry.profile : entry.bad >= 2 || now === "good" ? now : entry.profile;
    if (target === entry.profile) return;
    if (target !== "good") this.send({ type: "incident", kind: "poor_network", detail: `réseau ${target}, vidéo réduite` });
    entry.profile = target;
    await applyProfile(entry.pc, target).catch(() => {});
  }

  async report() {
    const out = [];
    for (const entry of this.peers.values()) {
      const s = await sample(entry.pc, null);
      out.push({
        id: entry.peer.id,
        name: entry.peer.name,
        role: entry.peer.role,
        framesDecoded: s.framesDecoded,
        frame: s.frame,
        pair: s.pair,
        ice: entry.pc.iceConnectionState,
        restarts: entry.restarts,
      });
    }
    return out;
  }

  // What we send to each peer: the track, its encoding parameters (the degradation profile) and getStats.
  async sending() {
    const out = [];
    for (const entry of this.peers.values()) {
      for (const sender of entry.pc.getSenders()) {
        if (!sender.track) continue;
        let sent = {};
        (await sender.getStats()).forEach((r) => r.type === "outbound-rtp" && (sent = r));
        const encodings = (sender.getParameters().encodings || []).map((e) => ({
          scaleResolutionDownBy: e.scaleResolutionDownBy ?? null,
          maxFramerate: e.maxFramerate ?? null,
          maxBitrate: e.maxBitrate ?? null,
        }));
        out.push({
          peer: entry.peer.id,
          profile: entry.profile,
          kind: sender.track.kind,
          label: sender.track.label,
          surface: sender.track.getSettings().displaySurface || null,
          encodings,
          frameWidth: sent.frameWidth ?? null,
          bytesSent: sent.bytesSent ?? 0,
        });
      }
    }
    return out;
  }

  close() {
    clearInterval(this.timer);
    for (const id of [...this.peers.keys()]) this.remove(id);
  }
}

function videoTransceivers(pc) {
  return pc.getTransceivers().filter((t) => t.receiver.track.kind === "video");
}

function slotOf(pc, transceiver) {
  const kind = transceiver.receiver.track.kind;
  return pc.getTransceivers().filter((t) => t.receiver.track.kind === kind).indexOf(transceiver);
}
