// Entry point: read the stack config, build the platform on the stack's own cluster, export the contract.
import "./config/process";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Platform } from "./components/platform";
import { loadStackConfig } from "./config";
import { planPlatform } from "./config/plan";

// Config -> plan -> components: read and validated once, resolved into records, rendered.
const config = loadStackConfig();
const plan = planPlatform(config);

// The only Kubernetes provider: default providers are disabled in Pulumi.yaml, so nothing can reach
// whatever kubeconfig context happens to be current.
const cluster = new k8s.Provider("cluster", {
    kubeconfig: config.cluster.kubeconfig === undefined ? undefined
        : config.cluster.kubeconfig.includes("\n") ? pulumi.secret(config.cluster.kubeconfig) : config.cluster.kubeconfig,
    context: config.cluster.context,
    namespace: config.namespace,
    // A changed Secret (a credential rotation) is updated in place. The provider's default replaces it, and a Secret
    // with a fixed name is replaced delete-first, which deletes and recreates every workload that refers to it
    // (MySQL included) instead of rolling them (docs/day-2.md).
    enableSecretMutable: true,
});

const platform = new Platform("egov", { plan }, { providers: [cluster] });

export const environment = config.environment;
export const namespace = platform.outputs.namespace;
export const storageClass = platform.outputs.storageClass;
export const storageClasses = platform.outputs.storageClasses;
export const urls = platform.outputs.urls;
export const endpoints = platform.outputs.endpoints;
export const secretNames = platform.outputs.secretNames;
export const credentials = platform.outputs.credentials;
