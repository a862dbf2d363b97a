import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";

export interface ConfigSecretsArgs {
    readonly namespace: pulumi.Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    readonly secrets: PlatformPlan["configSecrets"];
}

/**
 * The Secrets given as encrypted stack config (the ingress' TLS certificate and key, the off-site store's key pair):
 * made in the stack's namespace on the same up that creates it, so no step has to place them beforehand. Their values
 * stay secret in the state and in every output.
 */
export class ConfigSecrets extends pulumi.ComponentResource {
    constructor(name: string, args: ConfigSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:ConfigSecrets", name, {}, opts);
        for (const s of args.secrets) {
            new k8s.core.v1.Secret(s.name, {
                metadata: { name: s.name, namespace: args.namespace, labels: { ...args.commonLabels, tier: "secret", app: s.app } },
                type: s.type,
                stringData: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, pulumi.secret(v)])),
            }, { parent: this });
        }
        this.registerOutputs({});
    }
}
