/**
 * The conformance suite of the Store interface (src/oci/store/store.ts): one node:test test per contract,
 * registered for a named store. Writable stores are filled by the suite itself; read-only stores (an
 * archive being read, a daemon) get the images the suite wants as `seed` and must open a store that holds
 * them. Capabilities turn off what a store legitimately cannot do.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test as nodeTest } from 'node:test';
import { type Digest, sha256 } from '../../src/oci/digest.js';
import { isCairnError } from '../../src/oci/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { Index } from '../../src/oci/spec.js';
import type { Store } from '../../src/oci/store/store.js';
import { buildTestImage, type TestImage, writeTestImage } from '../helpers/make-image.js';
import { needTool } from '../helpers/tools.js';

export interface ConformanceCaps {
  /** Writes throw UNSUPPORTED; contents come from `seed`. */
  readOnly?: boolean;
  /** deleteTag is not supported. */
  noDelete?: boolean;
  /** The store holds image manifests only (docker-archive, daemon), not indexes. */
  noIndex?: boolean;
  /** The store cannot check that a manifest's blobs are present (registries that accept anything). */
  noReferenceCheck?: boolean;
  /** Maps a short tag of the suite to the form the store wants (docker-archive: a full `name:tag`). */
  tag?: (t: string) => string;
  /** Outside tools the store needs (e.g. dockerd): without them each test skips, or fails under CI. */
  needs?: string[];
}

export interface SeedImage {
  image: TestImage;
  tags: string[];
}

export type OpenStore = (seed: SeedImage[]) => Promise<{ store: Store; cleanup(): Promise<void> }>;

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function code(c: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isCairnError(e), `expected CairnError ${c}, got ${String(e)}`);
    assert.equal(e.code, c, `expected ${c}, got ${e.code}: ${e.message}`);
    return true;
  };
}

const missing = sha256('cairn conformance: never stored') as Digest;

export function runStoreConformance(name: string, open: OpenStore, caps: ConformanceCaps = {}): void {
  const tag = caps.tag ?? ((t: string) => t);
  const test = (title: string, fn: () => Promise<void>): void => {
    nodeTest(title, async (t) => {
      if (caps.needs && !needTool(t, ...caps.needs)) return;
      await fn();
    });
  };

  async function withStore(seed: SeedImage[], fn: (store: Store) => Promise<void>): Promise<void> {
    const { store, cleanup } = await open(seed);
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  }

  /** Read-only stores get `seed`; writable ones are filled here, in order. */
  async function seeded(seed: SeedImage[], fn: (store: Store) => Promise<void>): Promise<void> {
    await withStore(caps.readOnly ? seed : [], async (store) => {
      if (!caps.readOnly) {
        for (const s of seed) {
          if (s.tags.length === 0) await writeTestImage(store, s.image);
          for (const t of s.tags) await writeTestImage(store, s.image, tag(t));
        }
      }
      await fn(store);
    });
  }

  test(`${name}: blobs of a stored image stat and open with their bytes`, async () => {
    const image = await buildTestImage({ label: 'blobs' });
    await seeded([{ image, tags: ['blobs'] }], async (store) => {
      for (const l of image.layers) {
        assert.equal(await store.statBlob(l.digest), l.size);
        assert.deepEqual(await readAll(await store.openBlob({ digest: l.digest, size: l.size })), l.blob);
        assert.deepEqual(await readAll(await store.openBlob({ digest: l.digest })), l.blob);
      }
      const c = image.manifest.config;
      assert.equal(await store.statBlob(c.digest), c.size);
      assert.deepEqual(await readAll(await store.openBlob(c)), image.configBytes);
    });
  });

  test(`${name}: an absent blob stats as undefined and opens with BLOB_NOT_FOUND`, async () => {
    await seeded([{ image: await buildTestImage({ label: 'absent' }), tags: ['other'] }], async (store) => {
      assert.equal(await store.statBlob(missing), undefined);
      await assert.rejects(store.openBlob({ digest: missing }), code('BLOB_NOT_FOUND'));
    });
  });

  test(`${name}: opening a blob with a wrong expected size fails while reading`, async () => {
    const image = await buildTestImage({ label: 'wrong-size' });
    await seeded([{ image, tags: ['ws'] }], async (store) => {
      const l = image.layers[0]!;
      await assert.rejects(async () => readAll(await store.openBlob({ digest: l.digest, size: l.size - 1 })), code('SIZE_MISMATCH'));
    });
  });

  test(`${name}: manifest by tag and by digest`, async () => {
    const image = await buildTestImage({ label: 'by-tag' });
    await seeded([{ image, tags: ['one'] }], async (store) => {
      const byTag = await store.getManifest(tag('one'));
      assert.equal(byTag.digest, image.digest);
      assert.equal(byTag.mediaType, MediaType.OciManifest);
      assert.deepEqual(byTag.bytes, image.manifestBytes);
      const byDigest = await store.getManifest(image.digest);
      assert.equal(byDigest.digest, image.digest);
      assert.equal(byDigest.mediaType, MediaType.OciManifest);
      assert.deepEqual(byDigest.bytes, image.manifestBytes);
    });
  });

  test(`${name}: missing tag and missing digest give MANIFEST_NOT_FOUND naming the store`, async () => {
    const image = await buildTestImage({ label: 'missing' });
    await seeded([{ image, tags: ['present'] }], async (store) => {
      await assert.rejects(store.getManifest(tag('absent')), (e) => code('MANIFEST_NOT_FOUND')(e) && (e as Error).message.includes(store.name));
      await assert.rejects(store.getManifest(missing), code('MANIFEST_NOT_FOUND'));
    });
  });

  test(`${name}: one manifest carries several tags; tags list sorted`, async () => {
    const a = await buildTestImage({ label: 'several-a' });
    const b = await buildTestImage({ label: 'several-b' });
    await seeded([{ image: a, tags: ['zeta', 'alpha'] }, { image: b, tags: ['mid'] }], async (store) => {
      assert.deepEqual(await store.listTags(), [tag('alpha'), tag('mid'), tag('zeta')].sort());
      assert.equal((await store.getManifest(tag('zeta'))).digest, a.digest);
      assert.equal((await store.getManifest(tag('alpha'))).digest, a.digest);
      assert.equal((await store.getManifest(tag('mid'))).digest, b.digest);
    });
  });

  if (caps.readOnly) {
    test(`${name}: writes are refused with UNSUPPORTED`, async () => {
      const image = await buildTestImage({ label: 'ro' });
      await seeded([{ image, tags: ['ro'] }], async (store) => {
        const l = image.layers[0]!;
        await assert.rejects(store.putBlob(l, async () => Readable.from([l.blob])), code('UNSUPPORTED'));
        await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: image.manifestBytes }, tag('x')), code('UNSUPPORTED'));
        await assert.rejects(store.deleteTag(tag('ro')), code('UNSUPPORTED'));
      });
    });
    return;
  }

  test(`${name}: putBlob stores once; a duplicate put is a no-op`, async () => {
    await withStore([], async (store) => {
      const bytes = Buffer.from('a blob of the conformance suite');
      const desc = { digest: sha256(bytes), size: bytes.length };
      let opened = 0;
      const openIt = async () => {
        opened++;
        return Readable.from([bytes]);
      };
      assert.equal(await store.putBlob(desc, openIt), true);
      assert.equal(await store.putBlob(desc, openIt), false);
      assert.equal(opened, 1, 'a present blob is not read again');
      assert.equal(await store.statBlob(desc.digest), bytes.length);
      assert.deepEqual(await readAll(await store.openBlob(desc)), bytes);
    });
  });

  test(`${name}: concurrent puts of one blob both succeed`, async () => {
    await withStore([], async (store) => {
      const bytes = Buffer.alloc(300_000, 7);
      const desc = { digest: sha256(bytes), size: bytes.length };
      const results = await Promise.all([1, 2, 3].map(() => store.putBlob(desc, async () => Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]))));
      assert.ok(results.includes(true));
      assert.deepEqual(await readAll(await store.openBlob(desc)), bytes);
    });
  });

  test(`${name}: a blob with the wrong digest or size is rejected and leaves nothing`, async () => {
    await withStore([], async (store) => {
      const bytes = Buffer.from('the real content');
      const other = sha256('other content');
      await assert.rejects(store.putBlob({ digest: other, size: bytes.length }, async () => Readable.from([bytes])), code('DIGEST_MISMATCH'));
      assert.equal(await store.statBlob(other), undefined);
      const right = sha256(bytes);
      await assert.rejects(store.putBlob({ digest: right, size: bytes.length + 1 }, async () => Readable.from([bytes])), code('SIZE_MISMATCH'));
      await assert.rejects(store.putBlob({ digest: right, size: bytes.length - 1 }, async () => Readable.from([bytes])), code('SIZE_MISMATCH'));
      assert.equal(await store.statBlob(right), undefined);
      // The store is still usable for the same digest afterwards.
      assert.equal(await store.putBlob({ digest: right, size: bytes.length }, async () => Readable.from([bytes])), true);
    });
  });

  test(`${name}: a source stream failing midway leaves nothing`, async () => {
    await withStore([], async (store) => {
      const bytes = Buffer.alloc(200_000, 1);
      const desc = { digest: sha256(bytes), size: bytes.length };
      const failing = async () =>
        Readable.from((async function* () {
          yield bytes.subarray(0, 50_000);
          throw new Error('connection reset');
        })());
      await assert.rejects(store.putBlob(desc, failing), /connection reset/);
      assert.equal(await store.statBlob(desc.digest), undefined);
    });
  });

  test(`${name}: an invalid digest is refused with INVALID_DIGEST`, async () => {
    await withStore([], async (store) => {
      await assert.rejects(store.statBlob('sha256:../../etc/passwd' as Digest), code('INVALID_DIGEST'));
      await assert.rejects(store.openBlob({ digest: 'md5:abc' as Digest }), code('INVALID_DIGEST'));
    });
  });

  test(`${name}: a manifest stored without a tag is found by digest`, async () => {
    await withStore([], async (store) => {
      const image = await buildTestImage({ label: 'untagged' });
      assert.equal(await writeTestImage(store, image), image.digest);
      assert.deepEqual((await store.getManifest(image.digest)).bytes, image.manifestBytes);
      assert.deepEqual(await store.listTags(), []);
    });
  });

  test(`${name}: re-tagging moves the tag to the new manifest`, async () => {
    await withStore([], async (store) => {
      const a = await buildTestImage({ label: 'retag-a' });
      const b = await buildTestImage({ label: 'retag-b' });
      await writeTestImage(store, a, tag('t'));
      await writeTestImage(store, b, tag('t'));
      assert.equal((await store.getManifest(tag('t'))).digest, b.digest);
      assert.deepEqual(await store.listTags(), [tag('t')]);
      // Putting the same manifest under the same tag again changes nothing.
      await writeTestImage(store, b, tag('t'));
      assert.deepEqual(await store.listTags(), [tag('t')]);
      assert.deepEqual((await store.getManifest(a.digest)).bytes, a.manifestBytes, 'the untagged manifest is still readable by digest');
    });
  });

  if (!caps.noDelete) {
    test(`${name}: deleteTag removes only that tag and keeps the content`, async () => {
      await withStore([], async (store) => {
        const image = await buildTestImage({ label: 'delete' });
        await writeTestImage(store, image, tag('keep'));
        await writeTestImage(store, image, tag('drop'));
        await store.deleteTag(tag('drop'));
        assert.deepEqual(await store.listTags(), [tag('keep')]);
        await assert.rejects(store.getManifest(tag('drop')), code('MANIFEST_NOT_FOUND'));
        assert.equal((await store.getManifest(tag('keep'))).digest, image.digest);
        assert.equal(await store.statBlob(image.layers[0]!.digest), image.layers[0]!.size);
        await assert.rejects(store.deleteTag(tag('never')), code('MANIFEST_NOT_FOUND'));
      });
    });
  }

  if (!caps.noReferenceCheck) {
    test(`${name}: a manifest whose blobs are missing is refused and not tagged`, async () => {
      await withStore([], async (store) => {
        const image = await buildTestImage({ label: 'refused' });
        // Store all but the last layer.
        for (const l of image.layers.slice(0, -1)) await store.putBlob(l, async () => Readable.from([l.blob]));
        const c = image.manifest.config;
        await store.putBlob(c, async () => Readable.from([image.configBytes]));
        await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: image.manifestBytes }, tag('bad')), code('BLOB_NOT_FOUND'));
        assert.deepEqual(await store.listTags(), []);
        await assert.rejects(store.getManifest(tag('bad')), code('MANIFEST_NOT_FOUND'));
      });
    });
  }

  test(`${name}: a manifest that is not valid JSON or contradicts its media type is refused`, async () => {
    await withStore([], async (store) => {
      await assert.rejects(store.putManifest({ mediaType: MediaType.OciManifest, bytes: Buffer.from('{not json') }, tag('x')), code('INVALID_MANIFEST'));
      const image = await buildTestImage({ label: 'contradicts' });
      await assert.rejects(store.putManifest({ mediaType: MediaType.DockerManifest, bytes: image.manifestBytes }, tag('x')), code('INVALID_MANIFEST'));
      assert.deepEqual(await store.listTags(), []);
    });
  });

  if (!caps.noIndex) {
    test(`${name}: an index is stored after its children and refused without them`, async () => {
      await withStore([], async (store) => {
        const a = await buildTestImage({ label: 'index-a' });
        const b = await buildTestImage({ label: 'index-b' });
        const index: Index = {
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [a, b].map((i, n) => ({
            mediaType: MediaType.OciManifest,
            digest: i.digest,
            size: i.manifestBytes.length,
            platform: { architecture: n === 0 ? 'amd64' : 'arm64', os: 'linux' },
          })),
        };
        const bytes = Buffer.from(JSON.stringify(index));
        await writeTestImage(store, a);
        await assert.rejects(store.putManifest({ mediaType: MediaType.OciIndex, bytes }, tag('multi')), code('MANIFEST_NOT_FOUND'));
        await writeTestImage(store, b);
        const digest = await store.putManifest({ mediaType: MediaType.OciIndex, bytes }, tag('multi'));
        assert.equal(digest, sha256(bytes));
        const got = await store.getManifest(tag('multi'));
        assert.equal(got.mediaType, MediaType.OciIndex);
        assert.deepEqual(got.bytes, bytes);
        assert.equal((await store.getManifest(digest)).mediaType, MediaType.OciIndex);
      });
    });
  }
}
