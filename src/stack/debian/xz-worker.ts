/**
 * Worker thread of XzPool: decodes whole xz buffers with xz-decompress (WebAssembly) and sends the result
 * back, transferring the memory. Messages: in `{ id, data }`, out `{ id, data }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import xz from 'xz-decompress';

parentPort!.on('message', (msg: { id: number; data: Uint8Array }) => {
  const stream = new xz.XzReadableStream(new Blob([msg.data as Uint8Array<ArrayBuffer>]).stream() as unknown as ReadableStream<Uint8Array>);
  new Response(stream as unknown as ReadableStream<Uint8Array>)
    .arrayBuffer()
    .then((buf) => parentPort!.postMessage({ id: msg.id, data: new Uint8Array(buf) }, [buf]))
    .catch((e: unknown) => parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) }));
});
