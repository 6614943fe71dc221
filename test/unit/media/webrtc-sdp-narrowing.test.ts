import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { answerInOfferOrder, audioOnlyOffer } from '../../../src/media/webrtc-sdp.js';

const session = ['v=0', 'o=- 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0'];
const audio = (mid: string) => [`m=audio 9 UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=ice-ufrag:aaaa', 'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa', 'a=fingerprint:sha-256 AB:CD', 'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv'];
const video = (mid: string) => [`m=video 9 UDP/TLS/RTP/SAVPF 98`, 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=ice-ufrag:vvvv', 'a=ice-pwd:vvvvvvvvvvvvvvvvvvvvvvvv', 'a=fingerprint:sha-256 AB:CD', 'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:98 VP8/90000', 'a=sendrecv'];
const sdp = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
// What node-datachannel answers to the narrowed offer: audio, plus its own groups.
const libAnswer = (mid: string) => sdp([...session, `a=group:BUNDLE ${mid}`, `a=group:LS ${mid}`, 'm=audio 40000 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 127.0.0.1', `a=mid:${mid}`, 'a=ice-ufrag:xxxx', 'a=ice-pwd:xxxxxxxxxxxxxxxxxxxxxxxx', 'a=setup:active', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv']);

describe('the anchor answers one audio stream per WebRTC party', () => {
  it('leaves a single-audio offer as it is', () => {
    const offer = sdp([...session, 'a=group:BUNDLE 0', ...audio('0')]);
    const narrowed = audioOnlyOffer(offer);
    expect(narrowed.sdp).toBe(offer);
    expect(answerInOfferOrder(libAnswer('0'), narrowed)).toBe(libAnswer('0'));
  });

  it("Dino's offer (no BUNDLE, a transport per content, here video first): audio only to libdatachannel; the answer rejects video in place and invents no group", () => {
    const offer = sdp([...session, ...video('video'), ...audio('audio')]);
    const narrowed = audioOnlyOffer(offer);
    expect(parse(narrowed.sdp).media.map((m) => m.type)).toEqual(['audio']);
    expect(parse(narrowed.sdp).groups ?? []).toEqual([]);
    const answer = parse(answerInOfferOrder(libAnswer('audio'), narrowed));
    expect(answer.media.map((m) => [m.type, m.port, String(m.mid)])).toEqual([
      ['video', 0, 'video'],
      ['audio', 40000, 'audio'],
    ]);
    expect(answer.groups ?? []).toEqual([]);
  });

  // Found by test/fuzz/sdp-audio.test.ts (seed 636387675): sdp-transform wrote the unreadable line back as `a=fmtp:0 ...`.
  it('leaves out the lines the anchor could not read, which sdp-transform would write back as others', () => {
    const offer = sdp([...session, ...video('video'), ...audio('audio'), 'a=fmtp:  111 useinbandfec=1']);
    expect(audioOnlyOffer(offer).sdp).not.toMatch(/a=fmtp:0 /);
    const rtcp = sdp([...session, ...video('video'), ...audio('audio'), 'a=rtcp:999999999999999999999 IN IP4 0.0.0.0']);
    expect(audioOnlyOffer(rtcp).sdp).not.toMatch(/a=rtcp:/);
    const zeroChannels = sdp([...session, ...video('video'), ...audio('audio'), 'a=rtpmap:114 speex/800/0']);
    expect(audioOnlyOffer(zeroChannels).sdp).not.toMatch(/speex/);
    // Two rtpmaps for 9 leave it out; without its lines it would come back as static G722 (seed 1586780279).
    const twoRtpmaps = sdp([...session, ...video('video'), ...audio('audio').map((line) => line.replace('SAVPF 0', 'SAVPF 0 9')), 'a=rtpmap:9 p:63 red/48000/2', 'a=rtpmap:9 G722/8000']);
    expect(parse(audioOnlyOffer(twoRtpmaps).sdp).media[0]?.payloads).toBe(0);
  });

  it('a bundled audio + video offer gets BUNDLE with the audio mid alone', () => {
    const offer = sdp([...session, 'a=group:BUNDLE 0 1', ...audio('0'), ...video('1')]);
    const narrowed = audioOnlyOffer(offer);
    // sdp-transform reads a numeric mids list as a number.
    expect(parse(narrowed.sdp).groups?.map((g) => [g.type, String(g.mids)])).toEqual([['BUNDLE', '0']]);
    const answer = parse(answerInOfferOrder(libAnswer('0'), narrowed));
    expect(answer.groups?.map((g) => [g.type, String(g.mids)])).toEqual([['BUNDLE', '0']]);
    expect(answer.media.map((m) => m.port)).toEqual([40000, 0]);
  });
});
