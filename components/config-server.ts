import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_REPO_DIR, GENERATED_REPO_DIR } from "../config/wiring";

export interface ConfigServerFilesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    /** The configuration the platform generates for each of its config clients (config/wiring.ts). */
    readonly generatedFiles: Readonly<Record<string, string>>;
    /** The user's files (configServer.path), served above the generated ones; undefined with configServer.git. */
    readonly repoFiles?: Readonly<Record<string, string>>;
}

type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * What the config server serves from files: the generated configuration and, for a directory source, the
 * user's files. Both ConfigMaps are auto-named, so changed contents make new ConfigMaps and roll the server.
 */
export class ConfigServerFiles extends pulumi.ComponentResource {
    public readonly volumes: Volume[];
    public readonly volumeMounts: VolumeMount[];

    constructor(name: string, args: ConfigServerFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:ConfigServerFiles", name, {}, opts);
        const parent = { parent: this };
        const labels = { ...args.commonLabels, tier: "backend", app: "config" };
        const generated = new k8s.core.v1.ConfigMap("config-generated-configmap", {
            metadata: { namespace: args.namespace, labels },
            data: { ...args.generatedFiles },
        }, parent);
        this.volumes = [{ name: "config-generated", configMap: { name: generated.metadata.name } }];
        this.volumeMounts = [{ name: "config-generated", mountPath: GENERATED_REPO_DIR, readOnly: true }];
        if (args.repoFiles !== undefined) {
            const repo = new k8s.core.v1.ConfigMap("config-repo-configmap", {
                metadata: { namespace: args.namespace, labels },
                data: { ...args.repoFiles },
            }, parent);
            this.volumes.push({ name: "config-repo", configMap: { name: repo.metadata.name } });
            this.volumeMounts.push({ name: "config-repo", mountPath: CONFIG_REPO_DIR, readOnly: true });
        }
        this.registerOutputs({ generated: generated.metadata.name });
    }
}
