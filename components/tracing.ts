import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";
import { httpProbes, PartArgs, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";

export interface TracingArgs extends PartArgs {
    /** Zipkin's server record and workload record. */
    readonly plan: NonNullable<PlatformPlan["tracing"]>;
}

/** Zipkin, collecting the backend services' traces, with its UI behind an Ingress. */
export class Tracing extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly workload: Workload;
    public readonly host: pulumi.Output<string>;
    /** The services send spans to <host>:<port>/api/v2/spans (management.zipkin.tracing.endpoint, config/wiring.ts). */
    public readonly port: number;

    constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Tracing", name, {}, opts);
        const plan = args.plan.workload;
        this.port = plan.ports[0].port;
        this.workload = new Workload(plan.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan,
            podEnv: args.podEnv,
            // /health reports the collector and storage; liveness is the TCP accept.
            ...httpProbes("/health", this.port),
        }, { parent: this });
        this.host = this.workload.host;
        this.served = { [args.plan.record.name]: servedWorkload(args.plan.record, this.workload) };
        this.registerOutputs({ host: this.host });
    }
}
