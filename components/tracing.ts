import * as pulumi from "@pulumi/pulumi";
import { infraNodePorts, infraPorts } from "../config/catalog";
import { resolveImage } from "../config/images";
import type { PlatformConfig } from "../config/types";
import { httpProbes, ingressFor, PartArgs, Workload } from "./workload";
import { podSecurity } from "../config/security";

/** Zipkin, collecting the backend services' traces, with its UI behind an Ingress. */
export class Tracing extends pulumi.ComponentResource {
    public readonly workload: Workload;
    public readonly host: pulumi.Output<string>;
    /** The services send spans to <host>:<port>/api/v2/spans (management.zipkin.tracing.endpoint, config/wiring.ts). */
    public readonly port = infraPorts.zipkin;

    constructor(name: string, args: PartArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Tracing", name, {}, opts);
        const cfg: PlatformConfig = args.config;
        this.workload = new Workload("zipkin", {
            namespace: args.namespace,
            name: "zipkin",
            tier: "backend",
            commonLabels: args.commonLabels,
            image: resolveImage(cfg, "zipkin"),
            ports: [{ name: "http", port: this.port, nodePort: infraNodePorts.zipkin }],
            serviceType: cfg.serviceType,
            replicas: 1,
            env: [args.timezoneEnv],
            resources: cfg.resources.zipkin,
            security: podSecurity.zipkin,
            // /health reports the collector and storage; liveness is the TCP accept.
            ...httpProbes("/health", this.port),
            ingress: ingressFor(cfg, "zipkin", this.port),
        }, { parent: this });
        this.host = this.workload.host;
        this.registerOutputs({ host: this.host });
    }
}
