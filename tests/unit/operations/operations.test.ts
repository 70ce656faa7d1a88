// The logic the operations hold themselves (the rest is composition, covered by the integration
// tests): naming the image, destinations, the cache as a tag source, the offline verdict.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceOf, resolveTarget } from '../../../src/operations/common.js';
import { parseDestination } from '../../../src/operations/pull.js';
import { cacheTagSource } from '../../../src/operations/engine-pull.js';
import { verify } from '../../../src/operations/verify.js';
import type { ResolvedEvent } from '../../../src/operations/events.js';
import { openStore } from '../../../src/store/index.js';
import { digestOf } from '../../../src/oci/index.js';
import { parseReference } from '../../../src/reference/reference.js';

describe('image specs', () => {
  it('a reference string, a parsed reference and { reference } name the same image; catalog names none', () => {
    const text = 'quay.io/kairos/core-opensuse:v1.4.0';
    expect(referenceOf(text)).toEqual(parseReference(text));
    expect(referenceOf({ reference: text })).toEqual(parseReference(text));
    expect(referenceOf({ reference: parseReference(text) })).toEqual(parseReference(text));
    expect(referenceOf({ flavor: 'opensuse', variant: 'core' })).toBeUndefined();
    expect(() => referenceOf('Not A Reference')).toThrow(/invalid image reference/);
  });

  it('a reference without tag or digest means :latest, and is reported as resolved', async () => {
    const events: ResolvedEvent[] = [];
    const t = await resolveTarget({ image: 'quay.io/kairos/core-opensuse', tags: undefined, hostArch: 'arm64', emit: (e) => events.push(e) });
    expect(t.reference.tag).toBe('latest');
    expect(t.platform).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(events).toEqual([{ type: 'resolved', reference: 'quay.io/kairos/core-opensuse:latest', source: 'reference' }]);
  });

  it('a catalog name with a version resolves offline; without one it asks the tag source', async () => {
    const events: ResolvedEvent[] = [];
    const offline = await resolveTarget({ image: { flavor: 'opensuse', variant: 'core', version: 'v1.4.0' }, tags: undefined, hostArch: 'amd64', emit: (e) => events.push(e) });
    expect(offline.reference.tag).toBe('v1.4.0');
    expect(events[0]?.resolution?.discovered).toBe(false);
    const asked: string[] = [];
    const online = await resolveTarget({
      image: { flavor: 'opensuse', variant: 'core' }, hostArch: 'amd64', emit: () => undefined,
      tags: { listTags: async (repo) => { asked.push(repo.repository); return ['v1.3.2', 'v1.4.0', 'v1.5.0-rc1', 'latest']; } },
    });
    expect(online.reference.tag).toBe('v1.4.0');
    expect(asked.length).toBeGreaterThan(0);
  });

  it('an aborted signal stops resolution before anything happens', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(resolveTarget({ image: 'quay.io/kairos/x:v1', tags: undefined, signal: ac.signal, emit: () => undefined })).rejects.toThrow();
  });
});

describe('pull destinations', () => {
  it('oci:DIR, oci:DIR:TAG, docker, cache; anything else is a usage error', () => {
    expect(parseDestination(undefined)).toEqual({ kind: 'cache' });
    expect(parseDestination('docker')).toEqual({ kind: 'docker' });
    expect(parseDestination('oci:/tmp/x')).toEqual({ kind: 'oci', dir: '/tmp/x', tag: undefined });
    expect(parseDestination('oci:/tmp/x:v1.4.0')).toEqual({ kind: 'oci', dir: '/tmp/x', tag: 'v1.4.0' });
    expect(() => parseDestination('oci:')).toThrow(expect.objectContaining({ code: 'BAD_DESTINATION', kind: 'usage' }));
    expect(() => parseDestination('s3://bucket')).toThrow(expect.objectContaining({ code: 'BAD_DESTINATION' }));
  });
});

describe('the cache as a tag source', () => {
  it('lists the tags the cache holds for a repository (resolution without a registry)', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-ops-')) });
    const raw = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}');
    const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(raw), size: raw.length };
    await store.putManifest('quay.io/kairos/core-opensuse:v1.4.0', desc, raw);
    await store.putManifest('quay.io/kairos/core-opensuse:v1.3.2', desc, raw);
    await store.putManifest('quay.io/kairos/other:v9.9.9', desc, raw);
    const tags = await cacheTagSource(store).listTags(parseReference('quay.io/kairos/core-opensuse'));
    expect(tags?.sort()).toEqual(['v1.3.2', 'v1.4.0']);
    expect(await cacheTagSource(store).listTags(parseReference('quay.io/kairos/none'))).toBeUndefined();
  });
});

describe('verify --offline', () => {
  it('judges the tag grammar only, with no registry (a name that cannot exist fails)', async () => {
    const good = await verify({ image: 'quay.io/kairos/core-opensuse:v1.4.0', offline: true });
    expect(good.ok).toBe(true);
    expect(good.checks.map((c) => c.id)).toEqual(['tag-grammar']);
    const bad = await verify({ image: 'quay.io/kairos/core-opensuse:v1.4', offline: true });
    expect(bad.ok).toBe(false);
  });
});
