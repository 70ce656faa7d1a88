/** The configuration file (registry mirrors) every command reads. */
export { configPath, loadConfig, loadConfigSync, parseConfig, validateConfig, EMPTY_CONFIG } from './config.js';
export type { KairosImgConfig, MirrorEndpoint } from './config.js';
export { endpointsFor, offlineFromEnv } from './endpoints.js';
export type { Endpoint } from './endpoints.js';
