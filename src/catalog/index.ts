/** The catalogs, for the modules above them: the OS lookup and interface, and the Kairos catalog's data and resolution. */
export * from './os.js';
export { nearestName, normalizeArch } from './names.js';
export { defaultFlavorsDir } from './yaml-file.js';
export { loadCatalog, parseCatalog } from './kairos/load.js';
export { resolveImage, tagSearches, normalizeVersion, normalizeK3sOption } from './kairos/resolve.js';
export type { ImageRequest, ResolvedKairosImage, TagSearch } from './kairos/resolve.js';
export { kairosOsCatalog, resolveKairos } from './kairos/catalog.js';
export { newestRelease, discoverTags } from './kairos/discover.js';
export type { DiscoveredTag, DiscoverOptions, TagLists } from './kairos/discover.js';
export { buildMatrix, describePins, describePublished, newestKnownRelease } from './kairos/matrix.js';
export { changelogUrls } from './kairos/changelogs.js';
export { kairosLineDefaults } from './kairos/catalog.js';
export type { Matrix, MatrixRow } from './kairos/matrix.js';
export type { Catalog, Flavor, Era, Pin, Variant, VariantInfo } from './kairos/types.js';
export { loadTalosMatrix, parseTalosMatrix } from './talos/load.js';
export { checkTalos } from './talos/check.js';
export type { TalosCheck, TalosCheckId, TalosCheckReport, TalosCheckRequest } from './talos/check.js';
export type { TalosMatrix, TalosRelease } from './talos/types.js';
