/**
 * A UDP relay on 127.0.0.1: every datagram a client sends to its port goes through the `up` link to
 * 127.0.0.1:targetPort, from a socket of the relay's own for that client (so the target sees one source per
 * client, as it would see a NAT); every datagram the target sends back goes through the `down` link to the
 * client, from the relay's port. A datagram costs its length + 28 (IPv4 and UDP headers) on the links, and a
 * full queue drops it, as a router would.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { UDP_OVERHEAD, type EmulatedLink } from './emulated-link.js';

const HOST = '127.0.0.1';
/** Client addresses one relay serves at most (the benchmark uses one or two). */
const MAX_PEERS = 64;

export class UdpRelay {
  private readonly peers = new Map<string, Socket>();
  private closed = false;

  private constructor(
    private readonly front: Socket,
    private readonly flow: string,
    private readonly targetPort: number,
    private readonly up: EmulatedLink,
    private readonly down: EmulatedLink,
  ) {
    front.on('message', (msg, from) => this.fromClient(msg, from));
    front.on('error', () => {}); // ICMP errors are UDP weather; the protocols above decide
  }

  static open(flow: string, targetPort: number, up: EmulatedLink, down: EmulatedLink): Promise<UdpRelay> {
    const front = createSocket('udp4');
    return new Promise((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, HOST, () => {
        front.off('error', reject);
        resolve(new UdpRelay(front, flow, targetPort, up, down));
      });
    });
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Client addresses seen. */
  get peerCount(): number {
    return this.peers.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.peers.values()) s.close();
    this.peers.clear();
    this.front.close();
  }

  private fromClient(msg: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    const key = `${from.address}:${from.port}`;
    let back = this.peers.get(key);
    if (!back) {
      if (this.peers.size >= MAX_PEERS) return;
      const socket = createSocket('udp4');
      socket.on('error', () => {});
      socket.on('message', (reply) => {
        if (this.closed) return;
        this.down.offer(this.flow, reply.length + UDP_OVERHEAD, () => {
          if (!this.closed) this.front.send(reply, from.port, from.address);
        });
      });
      socket.bind(0, HOST); // send() waits for the bind
      this.peers.set(key, (back = socket));
    }
    const to = back;
    this.up.offer(this.flow, msg.length + UDP_OVERHEAD, () => {
      if (!this.closed) to.send(msg, this.targetPort, HOST);
    });
  }
}
