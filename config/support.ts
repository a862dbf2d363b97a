// The support table: per third-party image of the catalog (config/catalog.ts defaultImages), the component, its
// release series with their end of support, its licence and where its source is. README.md and docs/support.md
// are generated from it (npm run docs:config); the policy pack refuses, in prod, an image whose series it lists as
// past its end (policy/rules.ts supported-components). Review it when a default changes: a unit test holds every
// defaultImages key to a row and each default to a listed, supported series.
import { defaultImages, ImageKey } from "./catalog";
import { parseImageRef } from "./images";
import { SUPPORTED_MYSQL } from "./mysql";

export interface SupportSeries {
    /** The version prefix of the tag: 4.3 matches 4.3.6-management, 22 matches 22.23.5-bookworm-slim. */
    readonly series: string;
    /** Last day of (community) support, YYYY-MM-DD or YYYY-MM (end of that month); unset while none is published. */
    readonly ends?: string;
    /** Set when the project publishes no more releases: past its end, whatever the date. */
    readonly unmaintained?: string;
}

export interface SupportRow {
    readonly component: string;
    readonly licence: string;
    readonly source: string;
    /** The series whose support is known; a tag of another series is unknown (advisory). */
    readonly series: readonly SupportSeries[];
    /** How the end dates are set, in a sentence. */
    readonly policy: string;
}

/** The date the table's end dates were last checked against the projects' own pages. */
export const SUPPORT_REVIEWED = "2026-12-07";

export const SUPPORT: Readonly<Record<ImageKey, SupportRow>> = {
    mysql: {
        component: "MySQL Community Server", licence: "GPL-2.0-only", source: "https://github.com/mysql/mysql-server",
        series: [...SUPPORTED_MYSQL.map((s) => ({ series: s.series, ends: s.supportedUntil })), { series: "8.0", ends: "2026-04-30" }, { series: "5.7", ends: "2023-10-31" }],
        policy: "Oracle's lifetime support policy: an LTS series (8.4) gets Premier Support for five years; innovation releases until the next",
    },
    rabbitmq: {
        component: "RabbitMQ", licence: "MPL-2.0", source: "https://github.com/rabbitmq/rabbitmq-server",
        series: [
            { series: "4.3" },
            { series: "4.1", ends: "2026-01-30" }, { series: "4.0", ends: "2025-04-15" },
            { series: "3.13", ends: "2024-09-17" }, { series: "3.12", ends: "2024-02-21" }, { series: "3.10", ends: "2022-09-28" },
        ],
        policy: "community support covers only the latest minor of the latest major (COMMUNITY_SUPPORT.md): 4.3 until the next minor ships",
    },
    zipkin: {
        component: "Zipkin server", licence: "Apache-2.0", source: "https://github.com/openzipkin/zipkin",
        series: [{ series: "3" }],
        policy: "no published end of support; fixes ship in the current 3.x release",
    },
    opensearch: {
        component: "OpenSearch", licence: "Apache-2.0", source: "https://github.com/opensearch-project/OpenSearch",
        series: [{ series: "2.19" }],
        policy: "OpenSearch's maintenance policy: the last minor of a major (2.19) gets fixes until the major after next (4.0) ships",
    },
    dashboards: {
        component: "OpenSearch Dashboards", licence: "Apache-2.0", source: "https://github.com/opensearch-project/OpenSearch-Dashboards",
        series: [{ series: "2.19" }],
        policy: "as OpenSearch (its version must match the server's): 2.19 maintained until OpenSearch 4.0 ships",
    },
    fluentBit: {
        component: "Fluent Bit", licence: "Apache-2.0", source: "https://github.com/fluent/fluent-bit",
        series: [{ series: "5" }, { series: "4", unmaintained: "the 4.x line gets no more releases since 5.x became current" }],
        policy: "no LTS: fixes ship in the current major (5.x)",
    },
    jenkins: {
        component: "Jenkins LTS", licence: "MIT", source: "https://github.com/jenkinsci/jenkins",
        series: [{ series: "2.580" }, { series: "2.426", ends: "2024-02-28" }],
        policy: "an LTS line gets fixes until the next LTS baseline ships (about every 12 weeks); JDK 11 images are no longer published",
    },
    nfsPlugin: {
        component: "csi-driver-nfs (NFS CSI driver)", licence: "Apache-2.0", source: "https://github.com/kubernetes-csi/csi-driver-nfs",
        series: [{ series: "v4.13" }],
        policy: "no published end of support; fixes ship in the latest minor release, which the image follows",
    },
    csiProvisioner: {
        component: "CSI external-provisioner sidecar", licence: "Apache-2.0", source: "https://github.com/kubernetes-csi/external-provisioner",
        series: [{ series: "v6.3" }],
        policy: "Kubernetes CSI sidecars: fixes ship in the latest minor release",
    },
    csiNodeDriverRegistrar: {
        component: "CSI node-driver-registrar sidecar", licence: "Apache-2.0", source: "https://github.com/kubernetes-csi/node-driver-registrar",
        series: [{ series: "v2.17" }],
        policy: "Kubernetes CSI sidecars: fixes ship in the latest minor release",
    },
    csiLivenessProbe: {
        component: "CSI livenessprobe sidecar", licence: "Apache-2.0", source: "https://github.com/kubernetes-csi/livenessprobe",
        series: [{ series: "v2.19" }],
        policy: "Kubernetes CSI sidecars: fixes ship in the latest minor release",
    },
    frontendBase: {
        component: "Node.js LTS (Debian bookworm-slim)", licence: "MIT", source: "https://github.com/nodejs/node",
        series: [{ series: "22", ends: "2027-04-30" }, { series: "20", ends: "2026-04-30" }, { series: "18", ends: "2025-04-30" }, { series: "16", ends: "2023-09-11" }],
        policy: "the Node.js release schedule: an even major is an LTS line for 30 months",
    },
    rclone: {
        component: "rclone", licence: "MIT", source: "https://github.com/rclone/rclone",
        series: [{ series: "1.76" }],
        policy: "no LTS: fixes ship in the latest release, which RCLONE_VERSION (toolchain/versions.env) follows",
    },
};

/** The last day a YYYY-MM or YYYY-MM-DD end covers. */
export function lastDay(ends: string): string {
    if (/^\d{4}-\d{2}-\d{2}$/.test(ends)) return ends;
    const [y, m] = ends.split("-").map(Number);
    return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The listed series a tag belongs to (the longest matching prefix), if any. */
export function seriesOfTag(row: SupportRow, tag: string): SupportSeries | undefined {
    return [...row.series].sort((a, b) => b.series.length - a.series.length)
        .find((s) => tag === s.series || tag.startsWith(`${s.series}.`) || tag.startsWith(`${s.series}-`));
}

export type SupportStatus =
    | { readonly status: "supported"; readonly key: ImageKey; readonly series: SupportSeries }
    | { readonly status: "ended"; readonly key: ImageKey; readonly series: SupportSeries; readonly why: string }
    | { readonly status: "unknown"; readonly key?: ImageKey; readonly why: string };

const pathOf = (ref: string) => {
    const r = parseImageRef(ref);
    const name = ref.split("@")[0];
    return typeof r === "string" ? undefined : { path: `${r.registry}/${r.repository}`, tag: r.tag, digestOnly: ref.includes("@") && !name.slice(name.lastIndexOf("/") + 1).includes(":") };
};

/**
 * The support of an image a container runs: its row by source repository (also below a mirror, which keeps the
 * source path), else by its last path component; its series by tag; past its end when `today` is after it.
 */
export function imageSupport(image: string, today: string): SupportStatus {
    const img = pathOf(image);
    if (!img) return { status: "unknown", why: `${image} is not an image reference` };
    const keys = Object.keys(SUPPORT) as ImageKey[];
    const source = (k: ImageKey) => pathOf(defaultImages[k])!.path;
    const key = keys.find((k) => img.path === source(k) || img.path.endsWith(`/${source(k)}`))
        ?? keys.find((k) => img.path.split("/").pop() === source(k).split("/").pop());
    if (!key) return { status: "unknown", why: `no row of the support table (config/support.ts) is for ${img.path}` };
    const row = SUPPORT[key];
    if (img.digestOnly) return { status: "unknown", key, why: `${image} has no tag, so its ${row.component} series is unknown` };
    const s = seriesOfTag(row, img.tag);
    if (!s) return { status: "unknown", key, why: `tag ${img.tag} is no ${row.component} series the support table lists (${row.series.map((x) => x.series).join(", ")})` };
    if (s.unmaintained) return { status: "ended", key, series: s, why: `${row.component} ${s.series} is unmaintained: ${s.unmaintained}` };
    if (s.ends && lastDay(s.ends) < today) return { status: "ended", key, series: s, why: `${row.component} ${s.series} reached its end of support on ${lastDay(s.ends)}` };
    return { status: "supported", key, series: s };
}

/** The end of support of a key's default image, as a table cell. */
export function defaultSupportText(key: ImageKey): string {
    const row = SUPPORT[key];
    const tag = pathOf(defaultImages[key])!.tag;
    const s = seriesOfTag(row, tag);
    if (!s) return "not listed";
    if (s.unmaintained) return `unmaintained (${s.unmaintained})`;
    return s.ends ? lastDay(s.ends) : "none published";
}
