// The contract of an infrastructure server component (config/servers.ts is the other half of the seam): it is
// given its servers' records and hands each server's dependents the same few things, whatever renders it (a
// StatefulSet, a Deployment, an operator's resource, nothing for a server outside the cluster). The platform,
// the deploy order and the jobs read only this and the records, never the component's internals.
import type * as pulumi from "@pulumi/pulumi";
import type { ServerRecord } from "../config/servers";
import type { SecretRef } from "./credentials";
import type { Workload } from "./workload";

/** One server as its dependents see it. */
export interface ServedServer {
    readonly record: ServerRecord;
    /** Its cluster DNS name as created (record.host): what clients in any namespace are given. */
    readonly host: pulumi.Output<string>;
    /** The Service's name as created (record.service): what a client in the application's namespace may be given. */
    readonly service: pulumi.Output<string>;
    /**
     * What a client that needs the server ready first depends on: its pods ready and its Services there. The
     * platform adds what record.ready asks beyond that (schema-migrated: the migration Job).
     */
    readonly ready: pulumi.Resource[];
    /** The Secret its clients read (the keys record.secret names), when it has one. */
    readonly secret?: SecretRef<string>;
}

/** A component that renders infrastructure servers: each of its records, served by name. */
export interface ServerComponent {
    readonly served: Readonly<Record<string, ServedServer>>;
}

/** A server that runs as one Workload of the platform's. */
export function servedWorkload(record: ServerRecord, workload: Workload, secret?: SecretRef<string>): ServedServer {
    return { record, host: workload.host, service: workload.service.metadata.name, ready: workload.ready, ...(secret ? { secret } : {}) };
}
