import * as pulumi from "@pulumi/pulumi";
import type { FrontendSpec } from "../config/catalog";
import { BUILT_FOR_ANNOTATION } from "../config/frontends";
import { frontendName } from "../config/graph";
import { frontendImageId, resolveImage } from "../config/images";
import type { WiringContext } from "../config/wiring";
import { credentialsAnnotation, wiredEnv } from "./backend-service";
import { Credentials } from "./credentials";
import { preStopPauseSeconds, shutdown } from "../config/rollout";
import { applicationWorkload, httpProbes, ingressFor, PartArgs, pausingStop, Workload } from "./workload";

export interface FrontendArgs extends PartArgs {
    readonly spec: FrontendSpec;
    /** The wiring contract's inputs and what its settings refer to. */
    readonly wiring: WiringContext;
    readonly credentials: Credentials;
    readonly backendConfigMap: pulumi.Input<string>;
    readonly commonConfigMap: pulumi.Input<string>;
}

/**
 * A Next.js frontend (admin or portal): Deployment, Service, autoscaler and Ingress. It runs the image built for the
 * stack (frontends.lock.json, config/frontends.ts) and says on its pods what that image was built for.
 */
export class Frontend extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Frontend", name, {}, opts);
        const { spec, config: cfg } = args;
        const workloadName = frontendName(spec.name);
        const image = cfg.frontendImages[spec.name];
        if (image?.warning) void pulumi.log.warn(image.warning, this);
        this.workload = new Workload(workloadName, {
            ...applicationWorkload(args, workloadName, "frontend", spec.name, spec.port, spec.nodePort),
            image: resolveImage(cfg, frontendImageId(cfg, spec.name)),
            podAnnotations: {
                [BUILT_FOR_ANNOTATION]: image?.built ? JSON.stringify(image.built.builtFor) : "unknown",
                ...credentialsAnnotation({ name: workloadName }, args.wiring, args.credentials),
            },
            env: wiredEnv({ name: workloadName }, args.wiring, args),
            // Readiness renders the home page; liveness is the TCP accept (Next.js has no health endpoint).
            ...httpProbes("/", spec.port),
            ingress: ingressFor(cfg, spec.ingressHost, spec.port),
            // Out of the Service's endpoints (and the ingress controller's upstreams) before SIGTERM.
            stop: pausingStop(preStopPauseSeconds(false), shutdown.frontendShutdownSeconds),
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}
