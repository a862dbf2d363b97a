// RabbitMQ as the platform runs it: what each broker series refuses of a queue declaration (RabbitMQ's deprecated
// features by phase, and the queue arguments it removed), and the settings the platform renders into the broker's
// rabbitmq.conf, each with the reason it is there. The boot check derives the services' declarations from their
// binder and bus configuration and holds them against this (scripts/lib/boot-check.ts, docs/boot-check.md).

/** A broker release series, e.g. 4.3. */
export interface BrokerSeries { readonly major: number; readonly minor: number }

/** The series an image's tag names (rabbitmq:4.3.6-management gives 4.3); undefined for a digest-only or other tag. */
export function rabbitmqSeries(image: string): BrokerSeries | undefined {
    const tag = /:([^/@]+)(?:@|$)/.exec(image)?.[1];
    const m = tag ? /^(\d+)\.(\d+)(?:[.-]|$)/.exec(tag) : null;
    return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

const atLeast = (s: BrokerSeries, v: readonly [number, number]) => s.major > v[0] || (s.major === v[0] && s.minor >= v[1]);
export const seriesText = (s: BrokerSeries | readonly [number, number]) => "major" in s ? `${s.major}.${s.minor}` : `${s[0]}.${s[1]}`;

/**
 * Deprecated features a queue declaration can use, with the series from which the broker denies them unless
 * rabbitmq.conf permits them (deprecated_features.permit.<name> = true). Sources: RabbitMQ's list of deprecated
 * features (rabbitmq.com/release-information/deprecated-features-list), the 4.0.1 and 4.3.0 release notes.
 */
export const DEPRECATED_FEATURES = {
    transient_nonexcl_queues: {
        what: "a queue declared non-durable and non-exclusive",
        deniedFrom: [4, 3] as const,
        source: "RabbitMQ 4.3.0 release notes: declaring a non-durable non-exclusive queue is rejected by default",
    },
    queue_master_locator: {
        what: "the x-queue-master-locator queue argument",
        deniedFrom: [4, 3] as const,
        source: "deprecated in 4.0 (rabbit_queue_location), denied by default from 4.3: a classic queue declared with it fails with INTERNAL_ERROR",
    },
} as const;
export type DeprecatedFeature = keyof typeof DEPRECATED_FEATURES;

/** Queue arguments a series refuses outright (no permit brings them back). */
export const REMOVED_QUEUE_ARGUMENTS: readonly { readonly argument: string; readonly value?: string; readonly removedIn: readonly [number, number]; readonly why: string }[] = [
    { argument: "x-queue-mode", removedIn: [4, 3], why: "classic queue storage v1 (lazy mode) removed in 4.3" },
    { argument: "x-queue-version", value: "1", removedIn: [4, 3], why: "classic queue storage v1 removed in 4.3" },
];

/** rabbitmq.conf keys a 4.x broker no longer honours: the check fails a rendered file that sets one. */
export const REMOVED_CONF_KEYS: readonly { readonly key: RegExp; readonly removedIn: readonly [number, number]; readonly why: string }[] = [
    { key: /^queue_master_locator$/, removedIn: [4, 0], why: "deprecated with classic queue mirroring; use queue_leader_locator" },
    { key: /^cluster_partition_handling(\.|$)/, removedIn: [4, 3], why: "Mnesia's partition handling is gone (Khepri is the only metadata store)" },
    { key: /^classic_queue\.default_version$/, removedIn: [4, 3], why: "classic queue storage v1 removed" },
    { key: /^mnesia_table_loading_/, removedIn: [4, 3], why: "Mnesia removed" },
];

/** One queue as a client declares it (AMQP 0-9-1 queue.declare). */
export interface QueueDeclaration {
    readonly durable: boolean;
    readonly exclusive: boolean;
    readonly autoDelete: boolean;
    readonly args: Readonly<Record<string, string>>;
}

/** Why a broker of `series` refuses the declaration under these permits; undefined when it accepts it. */
export function refusal(q: QueueDeclaration, series: BrokerSeries, permits: ReadonlySet<string>): string | undefined {
    const denied = (f: DeprecatedFeature) => atLeast(series, DEPRECATED_FEATURES[f].deniedFrom) && !permits.has(f);
    if (q.args["x-queue-type"] === "quorum" && (!q.durable || q.exclusive || q.autoDelete)) {
        return "a quorum queue must be durable, non-exclusive and not auto-delete (every series refuses it)";
    }
    if (!q.durable && !q.exclusive && denied("transient_nonexcl_queues")) {
        return `${DEPRECATED_FEATURES.transient_nonexcl_queues.what}: deprecated feature transient_nonexcl_queues, denied by default from ${seriesText(DEPRECATED_FEATURES.transient_nonexcl_queues.deniedFrom)}`;
    }
    if (q.args["x-queue-master-locator"] !== undefined && denied("queue_master_locator")) {
        return `${DEPRECATED_FEATURES.queue_master_locator.what}: deprecated feature queue_master_locator, denied by default from ${seriesText(DEPRECATED_FEATURES.queue_master_locator.deniedFrom)}`;
    }
    for (const r of REMOVED_QUEUE_ARGUMENTS) {
        const v = q.args[r.argument];
        if (v !== undefined && (r.value === undefined || r.value === v) && atLeast(series, r.removedIn)) return `${r.argument}=${v}: ${r.why}`;
    }
    return undefined;
}

/** The deprecated features a declaration uses (whether or not the series denies them). */
export function featuresUsed(q: QueueDeclaration): DeprecatedFeature[] {
    const out: DeprecatedFeature[] = [];
    if (!q.durable && !q.exclusive) out.push("transient_nonexcl_queues");
    if (q.args["x-queue-master-locator"] !== undefined) out.push("queue_master_locator");
    return out;
}

/** A setting the platform writes into the broker's rabbitmq.conf, from the series on which it applies. */
export interface BrokerSetting {
    readonly key: string;
    readonly value: string;
    readonly reason: string;
    /** The first series that knows the key (older nodes refuse an unknown key at boot). */
    readonly from: readonly [number, number];
    /** The deprecated feature it permits, if it is a permit (the boot check holds it needed). */
    readonly permits?: DeprecatedFeature;
}

export const BROKER_SETTINGS: readonly BrokerSetting[] = [
    {
        key: "deprecated_features.permit.queue_master_locator", value: "true", from: [4, 0], permits: "queue_master_locator",
        reason: "Spring AMQP's AnonymousQueue (3.x and 4.0) declares x-queue-master-locator=client-local on every consumer queue " +
            "without a group: Spring Cloud Bus's busConsumer-in-0 in each service with spring-cloud-starter-bus-amqp. 4.3 denies the " +
            "argument by default; the queue is exclusive, so it lives on its connection's node and the locator changes nothing",
    },
];

/** The platform's rabbitmq.conf fragment for this image (conf.d/, beside the image's own defaults). */
export function brokerConf(image: string): string {
    const series = rabbitmqSeries(image);
    // An unknown series (a digest-only reference, a custom tag) gets every setting: the defaults are 4.x.
    const settings = BROKER_SETTINGS.filter((s) => series === undefined || atLeast(series, s.from));
    return [
        "# Written by egov-platform (config/rabbitmq.ts BROKER_SETTINGS); each setting with its reason.",
        ...settings.flatMap((s) => [`# ${s.reason}`, `${s.key} = ${s.value}`]),
        "",
    ].join("\n");
}

/** Parses rabbitmq.conf (sysctl format): key -> value, comments and blank lines skipped. */
export function parseConf(text: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of text.split("\n")) {
        const t = line.trim();
        if (t === "" || t.startsWith("#")) continue;
        const eq = t.indexOf("=");
        if (eq > 0) out.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
    }
    return out;
}

/** The features a parsed rabbitmq.conf permits. */
export function permitsOf(conf: ReadonlyMap<string, string>): Set<string> {
    const out = new Set<string>();
    for (const [k, v] of conf) {
        const m = /^deprecated_features\.permit\.(.+)$/.exec(k);
        if (m && v === "true") out.add(m[1]);
    }
    return out;
}

export { atLeast as seriesAtLeast };
