// OpenSearch's security facts, one home: its users, the Secret with their generated passwords, and the keys in it.
// Read by the plan (Logging and the snapshot job), the boot check and the tests.

/** The security plugin's users: admin (from OPENSEARCH_INITIAL_ADMIN_PASSWORD), Dashboards' server user, the shipper, the snapshot job. */
export const OPENSEARCH_USERS = { admin: "admin", dashboards: "kibanaserver", logstash: "logstash", snapshot: "snapshot" } as const;

/** The Secret the program makes with every user's generated password. */
export const OPENSEARCH_SECRET = "opensearch-credentials";

/** Its keys, per user. */
export const OPENSEARCH_CREDENTIAL_KEYS = {
    admin: "admin-password", dashboards: "dashboards-password", logstash: "logstash-password", snapshot: "snapshot-password",
} as const;

/** The env var the OpenSearch image (2.12+) requires; the security plugin's admin password. */
export const INITIAL_ADMIN_PASSWORD_ENV = "OPENSEARCH_INITIAL_ADMIN_PASSWORD";

/** Keys of the TLS Secret (logging.tlsSecretName): cert-manager's Certificate writes these. */
export const OPENSEARCH_TLS_KEYS = ["tls.crt", "tls.key", "ca.crt"] as const;

/** What an opensearch.yml must say for the security plugin to be on, with TLS on HTTP and no demo certificates. */
export function opensearchYmlProblems(yml: string): string[] {
    const setting = (key: string): string | undefined => {
        const m = new RegExp(`^${key.replace(/\./g, "\\.")}\\s*:\\s*(.+?)\\s*$`, "m").exec(yml);
        return m?.[1].replace(/^["']|["']$/g, "");
    };
    const out: string[] = [];
    if (setting("plugins.security.disabled") === "true") out.push("plugins.security.disabled: true turns the security plugin off");
    if (setting("plugins.security.ssl.http.enabled") !== "true") out.push("plugins.security.ssl.http.enabled is not true: passwords would cross the network in clear");
    if (setting("plugins.security.allow_unsafe_democertificates") === "true") out.push("plugins.security.allow_unsafe_democertificates: true accepts the public demo certificates");
    for (const layer of ["transport", "http"]) {
        if (!setting(`plugins.security.ssl.${layer}.pemtrustedcas_filepath`) && !setting(`plugins.security.ssl.${layer}.truststore_filepath`)) {
            out.push(`plugins.security.ssl.${layer}: no certificates of its own (the image would install its demo ones)`);
        }
    }
    return out;
}
