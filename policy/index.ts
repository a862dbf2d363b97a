// The egov-platform policy pack: run by every preview and up of the project's scripts, workflows and
// e2e (see README "Policy pack"); every rule is mandatory, so a violation stops the run (frontend-built-for-stack,
// supported-mysql, supported-components: outside prod, advisory; component-support-unknown: always advisory).
import { PolicyPack } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadConfig, PROJECT } from "../config";
import { frontends } from "../config/catalog";
import { frontendBuildValues } from "../config/frontends";
import { frontendName } from "../config/graph";
import { sideNamespaces } from "../config/parts";
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
        // The record is not needed here (the pods carry what their images were built for) and must not fail the pack.
        // Every key counted as encrypted: the analyzer is not told which keys are (the program is, and refuses a
        // credential stored in plain text); without this an encrypted `tls` made the pack fall back to the strictest
        // settings and refuse the NFS driver's namespace-bound exception (tests/e2e/nogo.e2e.ts).
        const cfg = loadConfig((key) => config.get(key), stack, [], () => true, { frontendRecord: false });
        // networkPolicy.enabled: read as optional so the pack also runs against a program without that key.
        const networkPolicy = (cfg as { networkPolicy?: { enabled?: boolean } }).networkPolicy?.enabled !== false;
        const built = Object.fromEntries(frontends.map((f) => [frontendName(f.name), frontendBuildValues(cfg, f)]));
        return { environment: cfg.environment, serviceType: cfg.serviceType, networkPolicy, frontends: built, sideNamespaces: sideNamespaces(cfg), supportWaivers: cfg.supportWaivers };
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(`egov-platform policy pack: the stack config is invalid, checking with the strictest settings:\n${e.message}`);
        return undefined;
    }
}

new PolicyPack("egov-platform", {
    description: "Security posture of the egov-platform stacks (issue 8): restricted pods, bounded resources, fixed prod images, network policy for every pod, no shared ReadWriteOnce volumes, no node exposure in prod, no secrets in plain config, frontends built for the stack, a supported MySQL, OpenSearch secured (security plugin, TLS, initial admin password from a Secret), every component within its end of support.",
    enforcementLevel: "mandatory",
    policies: allPolicies(stackSettings()),
});
