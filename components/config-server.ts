import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";

export interface ConfigServerFilesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    /**
     * The applications' configuration as served to each config client (config/served.ts) and the user's files
     * (configServer.path, served above them; none with configServer.git), with where the server reads each.
     */
    readonly plan: PlatformPlan["configServer"];
}

type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * What the config server serves from files: the applications' configuration per client and, for a directory source, the
 * user's files. Both ConfigMaps are auto-named, so changed contents make new ConfigMaps and roll the server.
 */
export class ConfigServerFiles extends pulumi.ComponentResource {
    public readonly volumes: Volume[];
    public readonly volumeMounts: VolumeMount[];

    constructor(name: string, args: ConfigServerFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:ConfigServerFiles", name, {}, opts);
        const parent = { parent: this };
        const labels = { ...args.commonLabels, tier: "backend", app: "config" };
        // ConfigMap keys hold no '/': `<client>_<file>` (client names are DNS labels), mounted back at <client>/<file>.
        const files = Object.entries(args.plan.generatedFiles).map(([p, text]) => ({ path: p, key: p.replace("/", "_"), text }));
        const generated = new k8s.core.v1.ConfigMap("config-generated-configmap", {
            metadata: { namespace: args.namespace, labels },
            data: Object.fromEntries(files.map((f) => [f.key, f.text])),
        }, parent);
        this.volumes = [{
            name: "config-generated",
            configMap: { name: generated.metadata.name, items: files.map((f) => ({ key: f.key, path: f.path })) },
        }];
        this.volumeMounts = [{ name: "config-generated", mountPath: args.plan.generatedDir, readOnly: true }];
        if (args.plan.repoFiles !== undefined) {
            const repo = new k8s.core.v1.ConfigMap("config-repo-configmap", {
                metadata: { namespace: args.namespace, labels },
                data: { ...args.plan.repoFiles },
            }, parent);
            this.volumes.push({ name: "config-repo", configMap: { name: repo.metadata.name } });
            this.volumeMounts.push({ name: "config-repo", mountPath: args.plan.repoDir, readOnly: true });
        }
        this.registerOutputs({ generated: generated.metadata.name });
    }
}
