import { describe, expect, it } from 'vitest';
import { catalogFor, catalogNamedBy, kairosOsCatalog, loadCatalog, OS_CATALOGS } from '../../../src/catalog/index.js';
import { upstreamRegistries } from '../../../src/cli/mirror.js';
import { formatReference, repositoryName } from '../../../src/reference/reference.js';
import { KairosImgError } from '../../../src/errors.js';

const kairos = await loadCatalog('kairos');

describe('the OS catalog lookup', () => {
  it('finds a catalog by its OS name, and answers an unknown one with the nearest', () => {
    expect(catalogFor('kairos').name).toBe('kairos');
    expect(catalogFor('talos').name).toBe('talos');
    let caught: unknown;
    try { catalogFor('talso'); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(KairosImgError);
    expect(caught).toMatchObject({ code: 'UNKNOWN_OS', kind: 'usage' });
    expect((caught as KairosImgError).message).toContain('did you mean talos?');
  });
  it('reads the first positional word: an OS that names itself, else a flavor of the default OS', () => {
    expect(catalogNamedBy('talos').name).toBe('talos');
    expect(catalogNamedBy('ubuntu-22-lts').name).toBe('kairos');
    expect(catalogNamedBy('no-such-flavor').name).toBe('kairos');
  });
  it('has exactly one default OS, unique names, and no positional word that shadows a Kairos flavor', () => {
    expect(OS_CATALOGS.filter((c) => c.positional.word === undefined).map((c) => c.name)).toEqual(['kairos']);
    const names = OS_CATALOGS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    const words = OS_CATALOGS.flatMap((c) => (c.positional.word === undefined ? [] : [c.positional.word]));
    for (const w of words) expect(kairos.flavors.map((f) => f.name)).not.toContain(w);
  });
  it('says whether Kairos verdicts apply', () => {
    expect(catalogFor('kairos').kairosVerdicts).toBe(true);
    expect(catalogFor('talos').kairosVerdicts).toBe(false);
  });
  it('gives the registries --registry stands in for, from the data files', async () => {
    expect(await catalogFor('kairos').registries()).toEqual(['quay.io']);
    expect(await catalogFor('talos').registries()).toEqual(['ghcr.io']);
    expect(await upstreamRegistries()).toEqual(['quay.io', 'ghcr.io']);
  });
});

describe('resolution and listings through the interface', () => {
  it('resolves offline, each OS its own way', async () => {
    const k = await catalogFor('kairos').resolve({ flavor: 'ubuntu-22-lts', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1' });
    expect(formatReference(k.reference)).toBe('quay.io/kairos/kairos-ubuntu-22-lts:v1.5.1-k3sv1.26.1-k3s1');
    expect(k.discovered).toBe(false);
    const t = await catalogFor('talos').resolve({ flavor: 'talos', variant: 'installer', version: 'v1.3.7', registry: 'mirror.local:5000' });
    expect(formatReference(t.reference)).toBe('mirror.local:5000/siderolabs/installer:v1.3.7');
  });
  it('discovers the newest release through the injected tag source', async () => {
    const asked: string[] = [];
    const tags = { listTags: async (r: { registry: string; repository: string }) => { asked.push(`${r.registry}/${r.repository}`); return r.repository === 'kairos/ubuntu' ? undefined : ['v1.5.0', 'v2.4.1', 'v2.4.2-rc1', 'latest']; } };
    const r = await catalogFor('kairos').resolve({ flavor: 'ubuntu-22-lts', variant: 'core', arch: 'amd64', tags });
    expect(formatReference(r.reference)).toBe('quay.io/kairos/core-ubuntu-22-lts:v2.4.1');
    expect(r.discovered).toBe(true);
    expect(asked).toEqual(['quay.io/kairos/ubuntu', 'quay.io/kairos/core-ubuntu-22-lts']);
  });
  it('names the Kairos repositories of every era, keeping only the flavor\'s tags of a shared one', async () => {
    const repos = await catalogFor('kairos').tagRepositories({ flavor: 'ubuntu-22-lts', variant: 'core', arch: 'amd64' });
    expect(repos.map((r) => repositoryName(r.repository))).toEqual(['quay.io/kairos/ubuntu', 'quay.io/kairos/core-ubuntu-22-lts']);
    const family = repos[0];
    const tags = ['22.04-core-amd64-generic-v2.4.3', '22.04-core-amd64-generic-v2.4.3-img', '20.04-core-amd64-generic-v2.4.3', '22.04-core-arm64-generic-v2.4.3', 'latest'];
    expect(tags.filter((t) => family?.owns?.(t) ?? true)).toEqual(['22.04-core-amd64-generic-v2.4.3', '22.04-core-amd64-generic-v2.4.3-img', 'latest']);
  });
  it('names the one Talos repository of an image, every tag its own', async () => {
    const repos = await catalogFor('talos').tagRepositories({ flavor: 'talos', variant: 'imager', registry: '127.0.0.1:5000' });
    expect(repos.map((r) => repositoryName(r.repository))).toEqual(['127.0.0.1:5000/siderolabs/imager']);
    expect(repos[0]?.owns).toBeUndefined();
    await expect(catalogFor('talos').tagRepositories({ flavor: 'talos', variant: 'imagr' })).rejects.toMatchObject({ code: 'UNKNOWN_TALOS_IMAGE' });
  });
  it('resolves against an injected Kairos catalog', async () => {
    const mirror = kairosOsCatalog(async () => ({ ...kairos, registry: 'registry.example:5000' }));
    expect(await mirror.registries()).toEqual(['registry.example:5000']);
    const r = await mirror.resolve({ flavor: 'opensuse', variant: 'core', version: 'v1.4.0' });
    expect(formatReference(r.reference)).toBe('registry.example:5000/kairos/core-opensuse:v1.4.0');
  });
});
