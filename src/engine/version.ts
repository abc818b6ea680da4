/** The engine's version, injected by scripts/build.mjs (esbuild `define`). */
declare const __INLETS_VERSION__: string | undefined;

/** The release version, or `0.0.0-dev` when running from source (tests). */
export const ENGINE_VERSION: string = typeof __INLETS_VERSION__ === 'string' ? __INLETS_VERSION__ : '0.0.0-dev';
