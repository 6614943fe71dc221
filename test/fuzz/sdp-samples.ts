import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Real-shaped SDP (RFC 8866) for the SDP fuzz properties: browsers' and libdatachannel's WebRTC
 * descriptions, the XMPP clients' as the gateway writes them (test/fixtures/jingle), and SIP
 * phones' and PBXs' plain RTP/AVP offers, with the forms parsers trip on (static payload types
 * without rtpmap, session-level c= and attributes, rtcp ports, IPv6, telephone-event).
 */

const FIXTURES = resolve(import.meta.dirname, '../fixtures/jingle');
const fixture = (name: string) => readFileSync(resolve(FIXTURES, name), 'utf8');
const sdp = (lines: readonly string[]) => `${lines.join('\r\n')}\r\n`;

export const WEBRTC_SDP: readonly string[] = [
  fixture('chromium-offer.sdp'),
  fixture('conversations-session-initiate.sdp'),
  fixture('dino-session-initiate.sdp'),
  // Firefox: session-level fingerprint and ICE options, {uuid} msid ids, no BUNDLE for one m-line.
  sdp([
    'v=0',
    'o=mozilla...THIS_IS_SDPARTA-99.0 4326891175431238123 0 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    'a=fingerprint:sha-256 0E:56:3C:6D:3A:21:62:2A:42:77:63:EC:30:D6:25:0E:F7:1E:12:4C:30:38:C0:2D:8A:7C:30:21:6A:8B:F5:8A',
    'a=ice-options:trickle',
    'a=msid-semantic:WMS *',
    'm=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101',
    'c=IN IP4 0.0.0.0',
    'a=sendrecv',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1',
    'a=fmtp:101 0-15',
    'a=ice-pwd:3d4ac1b9a45ec6d6e4b1fa1b5f1a4e20',
    'a=ice-ufrag:5e3a9b1c',
    'a=mid:0',
    'a=msid:{7ab2d6c0-1b9f-4c5e-8a6d-2f0e4b3c1a99} {c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f}',
    'a=rtcp-mux',
    'a=rtpmap:109 opus/48000/2',
    'a=rtpmap:9 G722/8000/1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000/1',
    'a=setup:actpass',
    'a=ssrc:2715620563 cname:{e6d4a1b2-3c4d-4e5f-8a9b-0c1d2e3f4a5b}',
    'a=candidate:0 1 UDP 2122252543 198.51.100.23 53624 typ host',
    'a=candidate:2 1 TCP 2105524479 198.51.100.23 9 typ host tcptype active',
    'a=candidate:1 1 UDP 1686052863 203.0.113.5 53624 typ srflx raddr 198.51.100.23 rport 53624',
    'a=end-of-candidates',
  ]),
  // libdatachannel (the gateway's own anchor) answering with BUNDLE and LS groups and a data m-line.
  sdp([
    'v=0',
    'o=rtc 2815376541 0 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=group:LS 0',
    'a=msid-semantic:WMS *',
    'a=ice-options:ice2,trickle',
    'a=fingerprint:sha-256 1D:2F:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=sendrecv',
    'a=ssrc:42 cname:gateway',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=setup:active',
    'a=ice-ufrag:Gw0a',
    'a=ice-pwd:GwPassword0123456789abc',
    'a=candidate:1 1 UDP 2122317823 192.0.2.10 52000 typ host',
    'a=end-of-candidates',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
    'a=sctp-port:5000',
    'a=max-message-size:262144',
  ]),
];

export const PHONE_SDP: readonly string[] = [
  // baresip
  sdp([
    'v=0', 'o=- 1184938297 3041256621 IN IP4 192.0.2.44', 's=-', 'c=IN IP4 192.0.2.44', 't=0 0',
    'm=audio 10234 RTP/AVP 9 0 8 101', 'b=AS:64', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', 'a=label:1', 'a=ssrc:3305137839 cname:sip:alice@example.com', 'a=rtcp-rsize', 'a=ptime:20',
  ]),
  // Asterisk/PBX trunk: static types without rtpmap, rtcp on another port, maxptime.
  sdp([
    'v=0', 'o=root 1234567890 1234567890 IN IP4 203.0.113.50', 's=Asterisk PBX 18.10.0', 'c=IN IP4 203.0.113.50', 't=0 0',
    'm=audio 16384 RTP/AVP 8 0 3 18 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:18 annexb=no', 'a=fmtp:101 0-16',
    'a=rtcp:16385 IN IP4 203.0.113.50', 'a=ptime:20', 'a=maxptime:150', 'a=sendrecv',
  ]),
  // linphone over IPv6, media-level c=, video rejected, audio first.
  sdp([
    'v=0', 'o=bob 2890 2891 IN IP6 2001:db8::22', 's=Talk', 't=0 0', 'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
    'm=audio 7078 RTP/AVP 96 97 0 8 101', 'c=IN IP6 2001:db8::22', 'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 useinbandfec=1',
    'a=rtpmap:97 speex/16000', 'a=fmtp:97 vbr=on', 'a=rtpmap:101 telephone-event/48000', 'a=rtcp-fb:* trr-int 1000', 'a=rtcp-fb:* ccm tmmbr',
    'm=video 0 RTP/AVP 96', 'a=rtpmap:96 VP8/90000',
  ]),
  // sipp's stock offer: hold (sendonly), a single static type.
  sdp(['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendonly']),
  // Cisco-style: session-level direction, G729 with annexb, no ptime.
  sdp([
    'v=0', 'o=CiscoSystemsSIP-GW-UserAgent 9102 2114 IN IP4 192.0.2.200', 's=SIP Call', 'c=IN IP4 192.0.2.200', 't=0 0', 'a=inactive',
    'm=audio 19470 RTP/AVP 18 101 19', 'c=IN IP4 192.0.2.200', 'a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no', 'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15', 'a=rtpmap:19 CN/8000', 'a=ptime:20',
  ]),
];

/** Tokens SDP parsers split on or look for; mutations insert them. */
export const SDP_DICTIONARY: readonly string[] = [
  '\r\n', '\n', '\r', ' ', '  ', '\t', ':', '/', '=', ';', ',', '*', '{', '}', '-',
  'm=audio ', 'm=video ', 'm=application ', ' 0 ', ' RTP/AVP ', ' UDP/TLS/RTP/SAVPF ', 'c=IN IP4 ', 'c=IN IP6 ', 'a=rtpmap:', 'a=fmtp:',
  'a=rtcp:', 'a=rtcp-mux', 'a=rtcp-fb:', 'a=candidate:', 'a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:sha-256 ', 'a=setup:', 'a=mid:',
  'a=msid:', 'a=ssrc:', 'a=ssrc-group:FID ', 'a=group:BUNDLE ', 'a=extmap:', 'a=sendonly', 'a=inactive', 'a=ptime:', 'b=AS:',
  ' typ ', ' host', ' raddr ', ' rport ', ' generation ', ' tcptype ', 'opus/48000/2', 'PCMU/8000', 'telephone-event/8000',
  '0.0.0.0', '::', '2001:db8::1', '999.1.1.1', '0', '65535', '65536', '127', '128', '-1', '4294967296', '99999999999999999999', '1e3', '',
];
