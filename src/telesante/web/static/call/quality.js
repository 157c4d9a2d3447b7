// Network quality from getStats (RTT, packet loss) and graceful degradation of the video we send.

export async function sample(pc, previous) {
  const stats = await pc.getStats();
  const out = { rtt: null, loss: 0, framesDecoded: 0, frame: null, pair: null, lost: 0, received: 0 };
  let pairId = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  stats.forEach((r) => {
    if (r.type === "candidate-pair" && (r.id === pairId || (!pairId && r.nominated && r.state === "succeeded"))) {
      const local = stats.get(r.localCandidateId) || {};
      const remote = stats.get(r.remoteCandidateId) || {};
      out.rtt = r.currentRoundTripTime ?? null;
      out.pair = { local: local.candidateType, remote: remote.candidateType, protocol: local.relayProtocol || local.protocol };
    }
    if (r.type === "inbound-rtp") {
      out.lost += r.packetsLost || 0;
      out.received += r.packetsReceived || 0;
      if (r.kind === "video") {
        out.framesDecoded += r.framesDecoded || 0;
        out.frame = { width: r.frameWidth ?? null, height: r.frameHeight ?? null };
      }
    }
  });
  if (previous) {
    const lost = out.lost - previous.lost;
    const total = lost + out.received - previous.received;
    out.loss = total > 0 ? Math.max(0, lost / total) : 0;
  }
  return out;
}

export function level(s) {
  if (s.rtt === null) return "unknown";
  if (s.rtt < 0.3 && s.loss < 0.03) return "good";
  if (s.rtt < 0.6 && s.loss < 0.08) return "fair";
  return "poor";
}

// Resolution and frame rate go down first; audio is never touched.
const PROFILES = {
  good: { scaleResolutionDownBy: 1, maxFramerate: 30, maxBitrate: 1_200_000 },
  fair: { scaleResolutionDownBy: 2, maxFramerate: 15, maxBitrate: 400_000 },
  poor: { scaleResolutionDownBy: 4, maxFramerate: 8, maxBitrate: 150_000 },
};

export async function applyProfile(pc, name) {
  const profile = PROFILES[name];
  if (!profile) return;
  for (const sender of pc.getSenders()) {
    if (!sender.track || sender.track.kind !== "video") continue;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0) continue;
    params.encodings.forEach((e) => Object.assign(e, profile));
    await sender.setParameters(params);
  }
}

export const LABELS = { unknown: "mesure en cours", good: "bonne", fair: "moyenne (image allégée)", poor: "faible (image réduite, son préservé)" };
