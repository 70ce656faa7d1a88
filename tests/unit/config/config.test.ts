// The mirror configuration: where it is looked for, what validates, and errors that name the key.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configPath, loadConfig, parseConfig, validateConfig } from '../../../src/config/index.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-config-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('configPath', () => {
  it('KAIROS_IMG_CONFIG, else XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ KAIROS_IMG_CONFIG: '/etc/k.yaml', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toEqual({ file: '/etc/k.yaml', explicit: true });
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toEqual({ file: '/x/kairos-img/config.yaml', explicit: false });
    expect(configPath({ HOME: '/h' })).toEqual({ file: '/h/.config/kairos-img/config.yaml', explicit: false });
  });
});

describe('parseConfig', () => {
  it('reads mirrors in order, with plainHttp and prefix', () => {
    const c = parseConfig('mirrors:\n  quay.io:\n    - host: registry.site.local:5000\n      plainHttp: true\n    - host: harbor.site.local\n      prefix: quay-proxy\n  ghcr.io:\n    - mirror.local\n', 'c.yaml');
    expect(c.mirrors).toEqual({
      'quay.io': [{ host: 'registry.site.local:5000', plainHttp: true }, { host: 'harbor.site.local', plainHttp: false, prefix: 'quay-proxy' }],
      'ghcr.io': [{ host: 'mirror.local', plainHttp: false }],
    });
    expect(parseConfig('', 'c.yaml').mirrors).toEqual({});
  });

  it('names every bad key', () => {
    const { errors } = validateConfig({
      mirrors: { 'quay.io': [{ host: 'https://x.local/path', plainHttp: 'yes', prefix: 'Bad Prefix', extra: 1 }, 7], 'bad host!': [], 'ghcr.io': { host: 'x' } },
      mirror: {},
    });
    expect(errors).toEqual([
      'mirror: unknown key (known: mirrors)',
      'mirrors.quay.io[0].extra: unknown key (known: host, plainHttp, prefix)',
      'mirrors.quay.io[0].host: "https://x.local/path" is not HOST[:PORT] (no scheme, no path)',
      'mirrors.quay.io[0].plainHttp: must be true or false, not "yes"',
      'mirrors.quay.io[0].prefix: "Bad Prefix" is not a repository path (lower-case components separated by /)',
      'mirrors.quay.io[1]: must be a mapping with host (and optionally plainHttp, prefix)',
      'mirrors.bad host!: "bad host!" is not a registry host (HOST[:PORT], e.g. quay.io)',
      'mirrors.ghcr.io: must be a list of mirrors (- host: HOST[:PORT])',
    ]);
  });

  it('a YAML syntax error or a bad key is CONFIG_INVALID naming file, line and key', () => {
    expect(() => parseConfig('mirrors:\n  quay.io: [\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^c\.yaml \(line \d+\): not valid YAML/) }));
    expect(() => parseConfig('mirrors:\n  quay.io:\n    - port: 5000\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('mirrors.quay.io[0].host: missing') }));
    expect(() => parseConfig('mirrors:\n  quay.io: []\n  quay.io: []\n', 'c.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('loadConfig', () => {
  it('no file at the default place is an empty configuration; a named file that is missing is an error', async () => {
    expect((await loadConfig({ env: { HOME: dir } })).mirrors).toEqual({});
    await expect(loadConfig({ env: { KAIROS_IMG_CONFIG: path.join(dir, 'nope.yaml') } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await mkdir(path.join(dir, 'xdg', 'kairos-img'), { recursive: true });
    await writeFile(path.join(dir, 'xdg', 'kairos-img', 'config.yaml'), 'mirrors:\n  quay.io:\n    - host: m.local\n');
    const c = await loadConfig({ env: { XDG_CONFIG_HOME: path.join(dir, 'xdg'), HOME: dir } });
    expect(c.mirrors['quay.io']).toEqual([{ host: 'm.local', plainHttp: false }]);
    expect(c.file).toBe(path.join(dir, 'xdg', 'kairos-img', 'config.yaml'));
  });
});
