// A preview run the way scripts/deploy.sh runs one (PREVIEW_ENV: no per-step checkpoints, since a preview
// writes no state).
import { PreviewOptions, PreviewResult, Stack } from "@pulumi/pulumi/automation";
import { PREVIEW_ENV } from "../../scripts/lib/pulumi-env";

export async function previewAsDeploy(stack: Stack, opts?: PreviewOptions): Promise<PreviewResult> {
    const env = stack.workspace.envVars;
    const before = Object.fromEntries(Object.keys(PREVIEW_ENV).map((k) => [k, env[k]]));
    Object.assign(env, PREVIEW_ENV);
    try {
        return await stack.preview(opts);
    } finally {
        for (const [k, v] of Object.entries(before)) {
            if (v === undefined) delete env[k];
            else env[k] = v;
        }
    }
}
