import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlannedEnv, PodEnv, ServicePlan } from "../config/plan";
import type { SecretName } from "../config/wiring";
import { Credentials, SecretRef, secretEnv } from "./credentials";
import { EnvVar, httpProbes, PartArgs, springBootProbes, Workload } from "./workload";

export interface BackendServiceArgs extends PartArgs {
    /** The service's record: its workload, the wiring contract's env and the credentials it reads. */
    readonly plan: ServicePlan;
    readonly credentials: Credentials;
    /** Names of the shared ConfigMaps. */
    readonly backendConfigMap: pulumi.Input<string>;
    readonly commonConfigMap: pulumi.Input<string>;
    readonly sharedClaimName: pulumi.Input<string>;
    /** Extra volumes, e.g. the config server's files. */
    readonly volumes?: k8s.types.input.core.v1.Volume[];
    readonly volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
}

/** The Secret holding each credential the contract names. */
function secretRef(c: Credentials, name: SecretName): SecretRef<string> {
    return { mysql: c.mysql, rabbitmq: c.rabbitmq, eureka: c.eureka, token: c.token }[name] as SecretRef<string>;
}

type ConfigMapRefs = { backendConfigMap: pulumi.Input<string>; commonConfigMap: pulumi.Input<string> };

/** Env vars from planned settings that name no Secret: a shared ConfigMap's key or a literal. */
export function plainEnv(env: readonly PodEnv[], refs: ConfigMapRefs): EnvVar[] {
    return env.map((s): EnvVar => {
        if (s.from === "literal") return { name: s.name, value: s.value };
        const name = s.configMap === "backend" ? refs.backendConfigMap : refs.commonConfigMap;
        return { name: s.name, valueFrom: { configMapKeyRef: { name, key: s.name } } };
    });
}

/** Env vars of a workload from its planned settings (the wiring contract): ConfigMap, Secret or literal. */
export function wiredEnv(env: readonly PlannedEnv[], refs: ConfigMapRefs & { credentials: Credentials }): EnvVar[] {
    return env.flatMap((s): EnvVar[] => {
        if (s.from === "secret") return [secretEnv(s.name, secretRef(refs.credentials, s.secret), s.key)];
        if (s.from === "userSecret") return [{ name: s.name, valueFrom: { secretKeyRef: { name: s.secretName, key: s.key } } }];
        return plainEnv([s], refs);
    });
}

/** One Spring backend service from the catalog: Deployment, Service, autoscaler and, if public, an Ingress. */
export class BackendService extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: BackendServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:BackendService", name, {}, opts);
        const { plan } = args;
        const port = plan.workload.ports[0].port;
        this.workload = new Workload(plan.workload.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan: plan.workload,
            podEnv: args.podEnv,
            env: wiredEnv(plan.env, args),
            podAnnotations: args.credentials.hashAnnotation(plan.credentials),
            ...(plan.spec.readinessPath ? httpProbes(plan.spec.readinessPath, port) : springBootProbes(port)),
            volumeMounts: orUndefined([
                ...(plan.sharedVolumeMount ? [{ name: "backend-volume", mountPath: plan.sharedVolumeMount }] : []),
                ...(args.volumeMounts ?? []),
            ]),
            volumes: orUndefined([
                ...(plan.sharedVolumeMount ? [{ name: "backend-volume", persistentVolumeClaim: { claimName: args.sharedClaimName } }] : []),
                ...(args.volumes ?? []),
            ]),
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}

const orUndefined = <T>(xs: T[]): T[] | undefined => (xs.length > 0 ? xs : undefined);
