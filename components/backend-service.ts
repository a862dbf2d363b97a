import * as pulumi from "@pulumi/pulumi";
import { BackendServiceSpec } from "../config/catalog";
import { Credentials, secretEnv } from "./credentials";
import { applicationWorkload, EnvVar, ingressFor, PartArgs, springBootProbes, Workload } from "./workload";

/** Keys of the backend ConfigMap: in-cluster host names derived from the namespace deployed to. */
export const backendConfigKeys = [
    "EUREKA_INSTANCE_HOSTNAME",
    "APIGATEWAY_HOSTNAME",
    "SPRING_CLOUD_CONFIG_URI",
    "MYSQL_HOSTNAME",
    "RABBITMQ_HOSTNAME",
    "ZIPKIN_HOSTNAME",
    "LOGSTASH_HOSTNAME",
] as const;
export type BackendConfigKey = (typeof backendConfigKeys)[number];

export interface BackendServiceArgs extends PartArgs {
    readonly spec: BackendServiceSpec;
    readonly credentials: Credentials;
    /** Names of the shared ConfigMaps. */
    readonly backendConfigMap: pulumi.Input<string>;
    readonly commonConfigMap: pulumi.Input<string>;
    readonly sharedClaimName: pulumi.Input<string>;
}

const APP_HOME = "/srv/nfs";

/** The env vars a catalog entry needs, from its flags: plain settings by ConfigMap, credentials by Secret. */
export function backendEnv(args: BackendServiceArgs): EnvVar[] {
    const { spec, credentials: c, config: cfg } = args;
    const fromBackend = (key: BackendConfigKey): EnvVar => ({ name: key, valueFrom: { configMapKeyRef: { name: args.backendConfigMap, key } } });
    const env: EnvVar[] = [args.timezoneEnv];
    if (spec.setsServerPort) env.push({ name: "SERVER_PORT", value: String(spec.port) });
    if (spec.needsDatabase) {
        env.push({ name: "APP_HOME", valueFrom: { configMapKeyRef: { name: args.commonConfigMap, key: "APP_HOME" } } });
        env.push(fromBackend("MYSQL_HOSTNAME"), secretEnv("DB_USERNAME", c.mysql, "username"), secretEnv("DB_PASSWORD", c.mysql, "password"));
    }
    if (spec.usesDiscovery) {
        env.push(fromBackend("EUREKA_INSTANCE_HOSTNAME"), fromBackend("APIGATEWAY_HOSTNAME"),
            secretEnv("EUREKA_USERNAME", c.eureka, "username"), secretEnv("EUREKA_PASSWORD", c.eureka, "password"));
    }
    if (spec.isDiscoveryServer) {
        env.push(secretEnv("SPRING_SECURITY_USER_NAME", c.eureka, "username"),
            secretEnv("SPRING_SECURITY_USER_PASSWORD", c.eureka, "password"));
    }
    if (spec.usesConfigServer) env.push(fromBackend("SPRING_CLOUD_CONFIG_URI"));
    if (spec.usesMessaging) {
        env.push(fromBackend("RABBITMQ_HOSTNAME"), secretEnv("SPRING_RABBITMQ_USERNAME", c.rabbitmq, "username"),
            secretEnv("SPRING_RABBITMQ_PASSWORD", c.rabbitmq, "password"));
    }
    if (spec.usesTracing) {
        env.push(cfg.tracing.enabled ? fromBackend("ZIPKIN_HOSTNAME") : { name: "SPRING_ZIPKIN_ENABLED", value: "false" });
    }
    if (spec.usesToken) env.push(secretEnv("TOKEN_SECRET", c.token, "token-secret"));
    for (const [name, value] of Object.entries(spec.env ?? {})) env.push({ name, value });
    return env;
}

/** One Spring backend service from the catalog: Deployment, Service, autoscaler and, if public, an Ingress. */
export class BackendService extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: BackendServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:BackendService", name, {}, opts);
        const { spec, config: cfg } = args;
        this.workload = new Workload(spec.name, {
            ...applicationWorkload(args, spec.name, "backend", `egovframe-msa-edu-backend-${spec.name}`, spec.port, spec.nodePort),
            // A service added through stack config brings its own image.
            ...(spec.image ? { image: spec.image } : {}),
            env: backendEnv(args),
            ...springBootProbes(spec.port),
            volumeMounts: spec.needsSharedVolume ? [{ name: "backend-volume", mountPath: APP_HOME }] : undefined,
            volumes: spec.needsSharedVolume ? [{ name: "backend-volume", persistentVolumeClaim: { claimName: args.sharedClaimName } }] : undefined,
            ingress: spec.ingressHost ? ingressFor(cfg, spec.ingressHost, spec.port) : undefined,
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}

export { APP_HOME };
