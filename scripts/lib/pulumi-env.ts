// The environment of a throwaway Pulumi project copy run by our own TypeScript (the bench and the e2e tests): its
// own file state backend and passphrase. How the program itself runs needs nothing here: tsconfig.json and
// config/process.ts decide it for every Pulumi command.
import * as crypto from "crypto";

export interface ThrowawayEnvOptions {
    /** Directory of the file state backend. */
    readonly stateDir: string;
}

export function throwawayEnv({ stateDir }: ThrowawayEnvOptions): Record<string, string> {
    return {
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("hex"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
}

/** What deploy.sh adds for a preview: it writes no state, so the engine need not serialise it after every step. */
export const PREVIEW_ENV: Readonly<Record<string, string>> = { PULUMI_SKIP_CHECKPOINTS: "true" };
