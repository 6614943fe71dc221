import { describe, expect, it } from 'vitest';
import { IceCandidateQueue } from '../../../src/client/ice-candidate-queue.js';
import type { IceCandidate } from '../../../src/protocol/messages.js';

// The SDK's trickle ICE bookkeeping for one call, without a browser: the queue
// only reads the candidate's toJSON() and asks the peer connection whether a
// remote description is set.

function localCandidate(n: number): RTCIceCandidate {
  const json = { candidate: `candidate:${n} 1 udp 2122260223 127.0.0.1 ${50000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' };
  return { ...json, toJSON: () => json } as unknown as RTCIceCandidate;
}

function makeQueue(live: () => boolean = () => true) {
  const sent: (IceCandidate | null)[] = [];
  const added: (RTCIceCandidateInit | undefined)[] = [];
  const pc = {
    remoteDescription: null as RTCSessionDescription | null,
    addIceCandidate: (candidate?: RTCIceCandidateInit) => {
      added.push(candidate);
      return Promise.resolve();
    },
  };
  const queue = new IceCandidateQueue(pc as unknown as RTCPeerConnection, (candidate) => sent.push(candidate), live);
  return { queue, sent, added, pc };
}

describe('IceCandidateQueue (SDK trickle ICE)', () => {
  it('holds local candidates until the gateway knows the call, then sends them in order and the rest as they come', () => {
    const { queue, sent } = makeQueue();
    queue.onLocalCandidate(localCandidate(1));
    queue.onLocalCandidate(localCandidate(2));
    expect(sent).toEqual([]);
    queue.startLocalSignaling();
    queue.onLocalCandidate(localCandidate(3));
    queue.onLocalCandidate(null);
    expect(sent.map((c) => c?.candidate.split(' ')[0] ?? null)).toEqual(['candidate:1', 'candidate:2', 'candidate:3', null]);
  });

  it('sends nothing after stop(): neither what waited nor what the browser gathers later', () => {
    const { queue, sent } = makeQueue();
    queue.onLocalCandidate(localCandidate(1));
    queue.stop(); // the call ended (e.g. refused with forbidden) before the gateway acked it
    queue.startLocalSignaling();
    queue.onLocalCandidate(localCandidate(2));
    queue.onLocalCandidate(null);
    expect(sent).toEqual([]);
  });

  it('stops trickling when the call ends mid-way', () => {
    const { queue, sent } = makeQueue();
    queue.startLocalSignaling();
    queue.onLocalCandidate(localCandidate(1));
    queue.stop();
    queue.onLocalCandidate(localCandidate(2));
    queue.onLocalCandidate(null);
    expect(sent).toHaveLength(1);
  });

  it('keeps remote candidates until a remote description is set, and drops them when stopped', () => {
    const { queue, added, pc } = makeQueue();
    queue.onRemoteCandidate({ candidate: 'candidate:9 1 udp 1 127.0.0.1 40000 typ host', sdpMid: '0' });
    expect(added).toEqual([]);
    pc.remoteDescription = {} as RTCSessionDescription;
    queue.flushRemoteCandidates();
    expect(added).toHaveLength(1);

    const second = makeQueue();
    second.queue.onRemoteCandidate({ candidate: 'candidate:9 1 udp 1 127.0.0.1 40000 typ host', sdpMid: '0' });
    second.queue.stop();
    second.pc.remoteDescription = {} as RTCSessionDescription;
    second.queue.flushRemoteCandidates();
    expect(second.added).toEqual([]);
  });
});
