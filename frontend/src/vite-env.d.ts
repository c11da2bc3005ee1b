/// <reference types="vite/client" />

/** The platform's version, the repository's VERSION file (vite.config.ts `define`). */
declare const __JOBRUNNER_VERSION__: string;
