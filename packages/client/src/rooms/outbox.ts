/**
 * The reliable-ordered messages a room sent lately, numbered, so that after a reconnection on a new session
 * the ones the server never got (it says which number it got last) are sent again, exactly once, and any
 * that can no longer be (they fell out of this bounded window) are reported, never silently lost.
 */

const MAX_MESSAGES = 512;
const MAX_BYTES = 256 * 1024;

export class Outbox {
  private seq = 0;
  private readonly kept: { seq: number; frame: Uint8Array }[] = [];
  private bytes = 0;
  /** The highest number that fell out of the window. */
  private evicted = 0;

  nextSeq(): number {
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** A new Room in a seat that already sent up to `lastSeq` (a reconnection by token): number on from there. */
  continueAfter(lastSeq: number): void {
    if (lastSeq > this.seq) this.seq = lastSeq;
  }

  keep(seq: number, frame: Uint8Array): void {
    this.kept.push({ seq, frame });
    this.bytes += frame.length;
    while (this.kept.length > MAX_MESSAGES || this.bytes > MAX_BYTES) {
      const old = this.kept.shift()!;
      this.bytes -= old.frame.length;
      this.evicted = old.seq;
    }
  }

  /**
   * After a reconnection: the server got every message up to `lastSeq`. Returns those after it that are
   * still here, and how many after it fell out of the window before (lost: report them).
   */
  since(lastSeq: number): { resend: Uint8Array[]; lost: number } {
    const resend = this.kept.filter((k) => k.seq > lastSeq).map((k) => k.frame);
    const lost = this.evicted > lastSeq ? this.evicted - lastSeq : 0;
    return { resend, lost };
  }
}
