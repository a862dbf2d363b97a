// The egov-platform policy pack: run by every preview and up of the project's scripts, workflows and
// e2e (see README "Policy pack"); every rule is mandatory, so a violation stops the run.
import { PolicyPack } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadConfig, PROJECT } from "../config";
import { allPolicies, StackSettings } from "./rules";

/**
 * The stack's own config, read and validated by the program's config/ (never re-derived here). The
 * launcher passes it in PULUMI_CONFIG. Without it (or when it is invalid, which fails the program
 * anyway) the pack assumes the strictest settings: prod, ClusterIP, NetworkPolicies on.
 */
function stackSettings(): StackSettings | undefined {
    const stack = pulumi.getStack();
    if (!stack) return undefined;
    const config = new pulumi.Config(PROJECT);
    try {
        const cfg = loadConfig((key) => config.get(key), stack);
        // networkPolicy.enabled: read as optional so the pack also runs against a program without that key.
        const networkPolicy = (cfg as { networkPolicy?: { enabled?: boolean } }).networkPolicy?.enabled !== false;
        return { environment: cfg.environment, serviceType: cfg.serviceType, networkPolicy };
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(`egov-platform policy pack: the stack config is invalid, checking with the strictest settings:\n${e.message}`);
        return undefined;
    }
}

new PolicyPack("egov-platform", {
    description: "Security posture of the egov-platform stacks (issue 8): restricted pods, bounded resources, fixed prod images, network policy for every pod, no shared ReadWriteOnce volumes, no node exposure in prod, no secrets in plain config.",
    enforcementLevel: "mandatory",
    policies: allPolicies(stackSettings()),
});
