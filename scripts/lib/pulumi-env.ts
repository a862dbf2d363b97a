// The environment of a throwaway Pulumi project copy run by our own TypeScript (the bench and the e2e tests):
// its own file state backend and passphrase, and the program run the way scripts/deploy.sh runs it (README: Speed).
import * as crypto from "crypto";

export interface ThrowawayEnvOptions {
    /** Directory of the file state backend. */
    readonly stateDir: string;
    /** Node's compile cache directory (deploy.sh: NODE_COMPILE_CACHE). */
    readonly compileCache: string;
    /** Let ts-node type-check the program on every run, as with PULUMI_NODEJS_TRANSPILE_ONLY=false. */
    readonly typecheck?: boolean;
}

export function throwawayEnv({ stateDir, compileCache, typecheck = false }: ThrowawayEnvOptions): Record<string, string> {
    return {
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("hex"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // Type checking is `npm run typecheck`'s job; without it swc transpiles (it cannot type-check).
        PULUMI_NODEJS_TRANSPILE_ONLY: typecheck ? "false" : "true",
        PULUMI_NODEJS_TSCONFIG_PATH: typecheck ? "tsconfig.json" : "tsconfig.swc.json",
        NODE_COMPILE_CACHE: compileCache,
    };
}

/** What deploy.sh adds for a preview: it writes no state, so the engine need not serialise it after every step. */
export const PREVIEW_ENV: Readonly<Record<string, string>> = { PULUMI_SKIP_CHECKPOINTS: "true" };
