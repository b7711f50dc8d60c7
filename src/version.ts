// Injected by scripts/build.mjs; the fallbacks serve tests that run from source.
declare const __TSRUN_VERSION__: string | undefined;
declare const __TSRUN_COMMIT__: string | undefined;

export const VERSION = typeof __TSRUN_VERSION__ === 'string' ? __TSRUN_VERSION__ : '0.0.0-dev';
export const COMMIT = typeof __TSRUN_COMMIT__ === 'string' ? __TSRUN_COMMIT__ : 'unknown';
/** The runtime-spec version tsrun writes and implements. */
export const SPEC_VERSION = '1.2.1';
