/**
 * Keeps the last `limit` bytes of a process's output (stdout and stderr in arrival order). When bytes were
 * dropped, the text starts at the first whole UTF-8 character.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      this.dropped = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    let all = Buffer.concat(this.chunks);
    if (this.dropped) {
      let i = 0;
      while (i < all.length && i < 4 && (all[i]! & 0xc0) === 0x80) i++; // UTF-8 continuation bytes
      all = all.subarray(i);
    }
    return all.toString('utf8');
  }
}
