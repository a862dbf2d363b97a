import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackendServiceSpec, infraPorts } from "../config/catalog";
import { eurekaOutOfServiceScript, preStopPauseSeconds, shutdown } from "../config/rollout";
import { resolveImage } from "../config/images";
import { SecretName, settingsFor, SHARED_DIR, WiredWorkload, WiringContext } from "../config/wiring";
import { Credentials, SecretRef, secretEnv } from "./credentials";
import { applicationWorkload, EnvVar, httpProbes, ingressFor, PartArgs, pausingStop, springBootProbes, Workload } from "./workload";

export interface BackendServiceArgs extends PartArgs {
    readonly spec: BackendServiceSpec;
    readonly credentials: Credentials;
    /** Names of the shared ConfigMaps. */
    readonly backendConfigMap: pulumi.Input<string>;
    readonly commonConfigMap: pulumi.Input<string>;
    readonly sharedClaimName: pulumi.Input<string>;
    /** The wiring contract's inputs: stack config, service graph and catalog. */
    readonly wiring: WiringContext;
    /** Extra volumes, e.g. the config server's files. */
    readonly volumes?: k8s.types.input.core.v1.Volume[];
    readonly volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
}

const APP_HOME = SHARED_DIR;

/** The Secret holding each credential the contract names. */
function secretRef(c: Credentials, name: SecretName): SecretRef<string> {
    return { mysql: c.mysql, rabbitmq: c.rabbitmq, eureka: c.eureka, token: c.token }[name] as SecretRef<string>;
}

/** Env vars of a workload from the wiring contract (config/wiring.ts): ConfigMap, Secret or literal. */
export function wiredEnv(w: WiredWorkload, ctx: WiringContext, refs: {
    credentials: Credentials; backendConfigMap: pulumi.Input<string>; commonConfigMap: pulumi.Input<string>;
}): EnvVar[] {
    return settingsFor(w, ctx).map((s): EnvVar => {
        switch (s.source.from) {
            case "configMap": {
                const name = s.source.configMap === "backend" ? refs.backendConfigMap : refs.commonConfigMap;
                return { name: s.env, valueFrom: { configMapKeyRef: { name, key: s.env } } };
            }
            case "secret":
                return secretEnv(s.env, secretRef(refs.credentials, s.source.secret), s.source.key);
            case "literal":
                return { name: s.env, value: s.value?.(ctx, w) ?? "" };
        }
    });
}

/** The credentials a workload reads (from the wiring contract): a new value of any of them rolls its pods. */
export function credentialsAnnotation(w: WiredWorkload, ctx: WiringContext, credentials: Credentials): Record<string, pulumi.Output<string>> {
    return credentials.hashAnnotation(settingsFor(w, ctx).flatMap((s) => (s.source.from === "secret" ? [s.source.secret] : [])));
}

/** The env vars a catalog entry gets: the wiring contract's settings, then the entry's own plain extras. */
export function backendEnv(args: BackendServiceArgs): EnvVar[] {
    const env = wiredEnv({ name: args.spec.name, spec: args.spec }, args.wiring, args);
    for (const [name, value] of Object.entries(args.spec.env ?? {})) env.push({ name, value });
    return env;
}

/** One Spring backend service from the catalog: Deployment, Service, autoscaler and, if public, an Ingress. */
export class BackendService extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: BackendServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:BackendService", name, {}, opts);
        const { spec, config: cfg } = args;
        this.workload = new Workload(spec.name, {
            ...applicationWorkload(args, spec.name, "backend", spec.name, spec.port, spec.nodePort),
            // A service added through stack config brings its own image; it moves below the mirror like every other.
            ...(spec.image ? { image: resolveImage(args.config, { ref: spec.image }) } : {}),
            env: backendEnv(args),
            // De-registered from Eureka and out of the endpoints before SIGTERM; then Spring drains in-flight requests.
            stop: pausingStop(preStopPauseSeconds(spec.usesDiscovery), shutdown.springShutdownSeconds,
                spec.usesDiscovery ? eurekaOutOfServiceScript(spec.name, infraPorts.discovery) : undefined),
            podAnnotations: credentialsAnnotation({ name: spec.name, spec }, args.wiring, args.credentials),
            ...(spec.readinessPath ? httpProbes(spec.readinessPath, spec.port) : springBootProbes(spec.port)),
            volumeMounts: orUndefined([
                ...(spec.needsSharedVolume ? [{ name: "backend-volume", mountPath: APP_HOME }] : []),
                ...(args.volumeMounts ?? []),
            ]),
            volumes: orUndefined([
                ...(spec.needsSharedVolume ? [{ name: "backend-volume", persistentVolumeClaim: { claimName: args.sharedClaimName } }] : []),
                ...(args.volumes ?? []),
            ]),
            ingress: spec.ingressHost ? ingressFor(cfg, spec.ingressHost, spec.port) : undefined,
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}

const orUndefined = <T>(xs: T[]): T[] | undefined => (xs.length > 0 ? xs : undefined);

export { APP_HOME };
