import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_REPO_DIR, SERVER_SETTINGS_DIR, SERVER_SETTINGS_FILE } from "../config/wiring";

export interface ConfigServerFilesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    /** The config server's own settings file (the overrides), from config/wiring.ts. */
    readonly settingsYaml: string;
    /** Files to serve (configServer.path), or undefined when a git repository is served. */
    readonly repoFiles?: Readonly<Record<string, string>>;
}

type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * What the config server reads from files: its overrides and, for a directory source, the files it serves.
 * Both ConfigMaps are auto-named, so changed contents make new ConfigMaps and roll the server.
 */
export class ConfigServerFiles extends pulumi.ComponentResource {
    public readonly volumes: Volume[];
    public readonly volumeMounts: VolumeMount[];

    constructor(name: string, args: ConfigServerFilesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:ConfigServerFiles", name, {}, opts);
        const parent = { parent: this };
        const labels = { ...args.commonLabels, tier: "backend", app: "config" };
        const settings = new k8s.core.v1.ConfigMap("config-server-configmap", {
            metadata: { namespace: args.namespace, labels },
            data: { [SERVER_SETTINGS_FILE]: args.settingsYaml },
        }, parent);
        this.volumes = [{ name: "server-settings", configMap: { name: settings.metadata.name } }];
        this.volumeMounts = [{ name: "server-settings", mountPath: SERVER_SETTINGS_DIR, readOnly: true }];
        if (args.repoFiles !== undefined) {
            // Mounted even when empty, so the search location exists and only the overrides are served.
            const repo = new k8s.core.v1.ConfigMap("config-repo-configmap", {
                metadata: { namespace: args.namespace, labels },
                data: { ...args.repoFiles },
            }, parent);
            this.volumes.push({ name: "config-repo", configMap: { name: repo.metadata.name } });
            this.volumeMounts.push({ name: "config-repo", mountPath: CONFIG_REPO_DIR, readOnly: true });
        }
        this.registerOutputs({ settings: settings.metadata.name });
    }
}
