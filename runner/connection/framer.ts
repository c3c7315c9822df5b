/**
 * The output framing of the persistent shell protocol (see shell-session.ts): one Framer per
 * command and stream finds the command's bytes between its random start and end markers.
 */

/**
 * Collects one command's output from one stream: drops bytes up to the start marker, keeps bytes
 * up to the end marker (searching only the new data plus a marker-sized overlap, so 100 MiB of
 * output costs one pass), then (stdout only) reads `<rc>;`.
 */
export class Framer {
  private phase: 'pre' | 'body' | 'rc' | 'done' = 'pre';
  private carry: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private rcText = '';
  rc = -1;

  constructor(private readonly start: Buffer, private readonly end: Buffer, private readonly wantRc: boolean, private readonly onDone: () => void) {}

  /** called once the start marker is seen: the shell has read the whole command line */
  onStart?: () => void;

  get started(): boolean {
    return this.phase !== 'pre';
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  output(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** bytes received so far (for the partial output of a killed command) */
  partial(): Buffer {
    return Buffer.concat([...this.chunks, this.phase === 'body' ? this.carry : Buffer.alloc(0)]);
  }

  feed(chunk: Buffer): void {
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    while (data.length && this.phase !== 'done') {
      if (this.phase === 'pre') {
        const i = data.indexOf(this.start);
        if (i < 0) {
          this.carry = data.subarray(Math.max(0, data.length - this.start.length + 1));
          return;
        }
        data = data.subarray(i + this.start.length);
        this.phase = 'body';
        this.onStart?.();
      } else if (this.phase === 'body') {
        const i = data.indexOf(this.end);
        if (i < 0) {
          const keep = Math.min(data.length, this.end.length - 1);
          if (data.length > keep) this.chunks.push(Buffer.from(data.subarray(0, data.length - keep)));
          this.carry = Buffer.from(data.subarray(data.length - keep));
          return;
        }
        if (i > 0) this.chunks.push(Buffer.from(data.subarray(0, i)));
        data = data.subarray(i + this.end.length);
        if (this.wantRc) this.phase = 'rc';
        else {
          this.phase = 'done';
          this.onDone();
        }
      } else if (this.phase === 'rc') {
        const i = data.indexOf(0x3b); // ';'
        if (i < 0) {
          this.rcText += data.toString('latin1');
          return;
        }
        this.rcText += data.subarray(0, i).toString('latin1');
        this.rc = Number.parseInt(this.rcText, 10);
        this.phase = 'done';
        this.onDone();
      }
    }
  }
}
