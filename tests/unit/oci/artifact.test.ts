// The ORAS shapes, held against manifests the oras CLI itself wrote (its e2e test data: file name =
// sha256 of the bytes), and the title rules of push and pull.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_BLOB, EMPTY_DESCRIPTOR, buildArtifactManifest, cleanPath, directoryLayer, fileLayer, goJson, isEmptyDescriptor, parseAnnotation,
  parseFileArgument, referrerDescriptor, referrersTag, titleForPath, titlePath, withReferrer, createdNow,
} from '../../../src/oci/artifact.js';
import { KairosImgError } from '../../../src/errors.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function codeOf(fn: () => unknown): { code: string; kind: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    return { code: (e as KairosImgError).code, kind: (e as KairosImgError).kind };
  }
  throw new Error('expected a throw');
}

describe('the manifest oras push writes', () => {
  it('is byte-identical to one the oras CLI wrote (files, default artifact type)', () => {
    // oras-project/oras test/e2e/testdata/zot/command/artifacts/blobs/sha256/6aa11331…
    const want = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.unknown.artifact.v1","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:01fa0c3558d5badb8b58a95a549f4c08e678866d604c79d699108873de4813c7","size":25,"annotations":{"org.opencontainers.image.title":"arm64"}}],"annotations":{"org.opencontainers.image.created":"2025-06-05T04:26:57Z"}}';
    const built = buildArtifactManifest({
      layers: [fileLayer({ digest: 'sha256:01fa0c3558d5badb8b58a95a549f4c08e678866d604c79d699108873de4813c7', size: 25, title: 'arm64' })],
      annotations: { 'org.opencontainers.image.created': '2025-06-05T04:26:57Z' },
    });
    expect(built.raw.toString()).toBe(want);
    expect(built.descriptor.digest).toBe('sha256:6aa11331ce0c766d6333b60dac98d584d98eea45fa93bbfc9b5bdb915ce3a43f');
    expect(sha(want)).toBe(built.descriptor.digest);
  });

  it('is byte-identical to an oras attach manifest (artifact type, subject)', () => {
    // …/blobs/sha256/20e7d3a6…
    const built = buildArtifactManifest({
      artifactType: 'referrer/image',
      layers: [fileLayer({ digest: 'sha256:ecbd32686867dec5cd74471abcf29a818889a294be605d6570cbe8b603a752b3', size: 21, title: 'referrerimage' })],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:ab01d6e284e843d51fb5e753904a540f507a62361a5fd7e434e4f27b285ca5c9', size: 584 },
      annotations: { 'org.opencontainers.image.created': '2025-06-05T04:30:10Z' },
    });
    expect(built.descriptor.digest).toBe('sha256:20e7d3a6ce087c54238c18a3428853b50cdaf4478a9d00caa8304119b58ae8a9');
    expect(built.descriptor).toMatchObject({ artifactType: 'referrer/image', size: built.raw.length });
  });

  it('uses the empty descriptor as the only layer when there are no files (oras 1.1)', () => {
    const m = buildArtifactManifest({ layers: [], annotations: { 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' } });
    expect(m.manifest.layers).toEqual([EMPTY_DESCRIPTOR]);
    expect(sha(EMPTY_BLOB)).toBe(EMPTY_DESCRIPTOR.digest);
    expect(isEmptyDescriptor(m.manifest.config)).toBe(true);
  });

  it('adds org.opencontainers.image.created (to the second, UTC) and refuses a malformed one', () => {
    const m = buildArtifactManifest({ layers: [], now: new Date('2024-03-04T05:06:07.891Z') });
    expect(m.manifest.annotations).toEqual({ 'org.opencontainers.image.created': '2024-03-04T05:06:07Z' });
    expect(createdNow(new Date('2020-01-01T00:00:00.999Z'))).toBe('2020-01-01T00:00:00Z');
    expect(codeOf(() => buildArtifactManifest({ layers: [], annotations: { 'org.opencontainers.image.created': 'yesterday' } }))).toEqual({ code: 'BAD_ANNOTATION', kind: 'usage' });
    expect(codeOf(() => buildArtifactManifest({ layers: [], artifactType: 'not a type' })).code).toBe('BAD_MEDIA_TYPE');
  });

  it('describes a packed directory with the uncompressed digest and the unpack flag, keys sorted as Go sorts them', () => {
    const layer = directoryLayer({ digest: sha('gz'), size: 2, title: 'build/out', tarDigest: sha('tar') });
    const m = buildArtifactManifest({ layers: [layer], annotations: { 'z.last': 'z', 'a.first': 'a', 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' } });
    const text = m.raw.toString();
    expect(text).toContain(`"annotations":{"io.deis.oras.content.digest":"${sha('tar')}","io.deis.oras.content.unpack":"true","org.opencontainers.image.title":"build/out"}`);
    expect(text).toContain('"annotations":{"a.first":"a","org.opencontainers.image.created":"2025-01-01T00:00:00Z","z.last":"z"}');
    expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  });
});

describe('Go encoding/json', () => {
  it('escapes HTML characters and line separators as Go does', () => {
    expect(goJson({ a: '<b>&"\\\n\t\u0001\u2028' })).toBe('{"a":"\\u003cb\\u003e\\u0026\\"\\\\\\n\\t\\u0001\\u2028"}');
    expect(goJson([1, true, null, 'é'])).toBe('[1,true,null,"é"]');
  });
});

describe('file arguments and titles', () => {
  it('splits path:mediaType at the last colon, as oras does', () => {
    expect(parseFileArgument('hi.txt')).toEqual({ path: 'hi.txt', mediaType: undefined });
    expect(parseFileArgument('hi.txt:application/vnd.me.hi')).toEqual({ path: 'hi.txt', mediaType: 'application/vnd.me.hi' });
    expect(parseFileArgument('hi:txt:')).toEqual({ path: 'hi:txt', mediaType: undefined });
    expect(codeOf(() => parseFileArgument(':application/x')).code).toBe('BAD_FILE_ARGUMENT');
    expect(codeOf(() => parseFileArgument('a:not a type')).code).toBe('BAD_MEDIA_TYPE');
  });

  it('titles a path with filepath.Clean, refusing absolute paths, .. and the directory itself', () => {
    expect(titleForPath('./build//disk.img')).toBe('build/disk.img');
    expect(titleForPath('dir/')).toBe('dir');
    expect(titleForPath('a/b/../c')).toBe('a/c');
    expect(codeOf(() => titleForPath('/etc/passwd'))).toEqual({ code: 'ABSOLUTE_PATH', kind: 'usage' });
    expect(codeOf(() => titleForPath('../x'))).toEqual({ code: 'PATH_LEAVES_DIRECTORY', kind: 'usage' });
    expect(codeOf(() => titleForPath('a/../../x')).code).toBe('PATH_LEAVES_DIRECTORY');
    expect(codeOf(() => titleForPath('.')).code).toBe('BAD_FILE_ARGUMENT');
    expect(cleanPath('/a/../../b')).toBe('/b');
  });

  it('refuses pulled titles that are absolute or leave the output directory (operational, exit 1)', () => {
    expect(titlePath('a/./b//c')).toEqual(['a', 'b', 'c']);
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', '', '.', 'a\0b']) {
      expect(codeOf(() => titlePath(bad))).toEqual({ code: 'UNSAFE_TITLE', kind: 'operational' });
    }
  });

  it('reads --annotation key=value, keeping = in the value', () => {
    expect(parseAnnotation('k=v=w')).toEqual(['k', 'v=w']);
    expect(codeOf(() => parseAnnotation('novalue')).code).toBe('BAD_ANNOTATION');
    expect(codeOf(() => parseAnnotation('=v')).code).toBe('BAD_ANNOTATION');
  });
});

describe('referrers tag schema', () => {
  it('names the tag <alg>-<hex>', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`);
  });

  it('lists a referrer with its artifactType (or config type) and annotations', () => {
    const d = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha('m'), size: 10 };
    expect(referrerDescriptor(d, { artifactType: 'application/x.a', annotations: { k: 'v' } })).toEqual({ ...d, artifactType: 'application/x.a', annotations: { k: 'v' } });
    expect(referrerDescriptor(d, { config: { mediaType: 'application/x.cfg' } })).toEqual({ ...d, artifactType: 'application/x.cfg' });
  });

  it('keeps every existing entry in order, appends a new one once, and writes the index as oras-go does', () => {
    const a = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha('a'), size: 1, artifactType: 'x/a' };
    const b = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha('b'), size: 2, artifactType: 'x/b', annotations: { k: 'v' } };
    const first = withReferrer(undefined, a);
    expect(first.changed).toBe(true);
    expect(first.raw.toString()).toBe(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${a.digest}","size":1,"artifactType":"x/a"}]}`);
    const second = withReferrer(first.index, b);
    expect(second.index.manifests.map((m) => m.digest)).toEqual([a.digest, b.digest]);
    const again = withReferrer(second.index, a);
    expect(again.changed).toBe(false);
    expect(again.index.manifests).toHaveLength(2);
  });
});
