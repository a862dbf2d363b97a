// A preview run the way scripts/deploy.sh runs one: without per-step checkpoints (a preview writes no state,
// but the engine would still serialise it after every step).
import { PreviewOptions, PreviewResult, Stack } from "@pulumi/pulumi/automation";

export async function previewAsDeploy(stack: Stack, opts?: PreviewOptions): Promise<PreviewResult> {
    const env = stack.workspace.envVars;
    const before = env.PULUMI_SKIP_CHECKPOINTS;
    env.PULUMI_SKIP_CHECKPOINTS = "true";
    try {
        return await stack.preview(opts);
    } finally {
        if (before === undefined) delete env.PULUMI_SKIP_CHECKPOINTS;
        else env.PULUMI_SKIP_CHECKPOINTS = before;
    }
}
